//! What a GPU is, as reports record it: plain data, compiled with or without the `cuda`
//! feature so that a report with a GPU section reads anywhere.

/// What the device is, for reports.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceInfo {
    pub ordinal: usize,
    pub name: String,
    /// `major.minor`, e.g. `9.0` for an H100.
    pub compute_capability: String,
    pub multiprocessors: u32,
    pub clock_mhz: u32,
    pub memory_bytes: u64,
    pub memory_bus_bits: u32,
    /// The CUDA version the driver supports, e.g. `12.4`.
    pub driver_version: String,
}
