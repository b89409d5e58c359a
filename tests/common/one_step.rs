//! Running the VM one step at a time under the one-step verifier (`poie-referee`'s `step`,
//! written from SPEC 1 alone): at each step the VM builds a step proof, the referee verifies
//! and executes it, and its post-state header (so its commitment) and chunk must be the VM's.

use poie::trace::VecSink;
use poie::vm::{StepProofParts, StepProver, Vm};
use poie_referee::{step, Header, LeafProof, Status, StepError, StepProof, StepResult};

pub const MAX: u64 = u64::MAX;
pub const JOB: u32 = 3;
pub const ECALL: u32 = 0x0000_0073;

pub fn leaf(p: &poie::vm::LeafProof) -> LeafProof {
    LeafProof {
        index: p.index,
        leaf: p.leaf,
        siblings: p.siblings.clone(),
    }
}

/// How many random programs a differential runs: `default`, or `POIE_ONE_STEP_PROGRAMS` to run
/// more (the suite keeps its default short; a longer run is a command away).
pub fn programs(default: u64) -> u64 {
    std::env::var("POIE_ONE_STEP_PROGRAMS").map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("POIE_ONE_STEP_PROGRAMS: not a number"))
    })
}

/// The VM's proof parts as the referee's proof.
pub fn convert(parts: &StepProofParts) -> StepProof {
    poie::protocol::dispute::step_proof_of(parts)
}

/// What the checked steps covered.
#[derive(Default, Debug)]
pub struct Tally {
    pub verified: u64,
    pub ecalls: u64,
    pub traps: u64,
    pub stores: u64,
    pub two_leaf: u64,
    pub two_page_leaves: u64,
    /// Ecalls whose proof holds input leaves, and two of them.
    pub input_leaves: u64,
    pub two_input_leaves: u64,
    /// Ecalls that unmapped a page (a page subtree proof).
    pub unmaps: u64,
    /// Ecalls that changed the output accumulators, the page table, or the descriptors.
    pub outputs: u64,
    pub brk_maps: u64,
    pub closes: u64,
}

/// The referee's `step`, and with the `evm` feature the on-chain verifier's for the same proof,
/// which must agree with it (`common::evm`).
pub fn referee_step(pre: &Header, proof: &StepProof) -> Result<StepResult, StepError> {
    let r = step(pre, proof);
    #[cfg(feature = "evm")]
    super::evm::agree(pre, proof, &r);
    r
}

/// [`referee_step`] for the steps of whole runs: the on-chain verifier checks the first
/// `POIE_EVM_STEPS` of them in each test binary (default 400,000), the Rust referee every one,
/// so that the long differential (`POIE_ONE_STEP_PROGRAMS=1000`, 1.1 * 10^6 steps) does not
/// pay the EVM for each step again; the default run stays within the budget.
fn run_step(pre: &Header, proof: &StepProof) -> Result<StepResult, StepError> {
    #[cfg(feature = "evm")]
    if super::evm::steps_checked() < super::evm::budget() {
        return referee_step(pre, proof);
    }
    step(pre, proof)
}

/// The instruction word a proof's fetch leaf holds at `pre.pc`.
pub fn fetched_word(pre: &Header, proof: &StepProof) -> u32 {
    let at = (pre.pc % 32) as usize;
    let b = &proof.fetch.leaf;
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn count(tally: &mut Tally, pre: &Header, proof: &StepProof, post: &Header, chunk: bool) {
    tally.verified += 1;
    tally.traps += u64::from(!chunk);
    tally.stores += u64::from(post.memory_root != pre.memory_root);
    tally.two_leaf += u64::from(proof.data.len() == 2);
    tally.two_page_leaves += u64::from(proof.data_pages.len() == 2);
    if fetched_word(pre, proof) == ECALL {
        tally.ecalls += 1;
        tally.input_leaves += u64::from(!proof.input.is_empty());
        tally.two_input_leaves += u64::from(proof.input.len() == 2);
        tally.unmaps += u64::from(!proof.page_memory.is_empty());
        tally.outputs +=
            u64::from(post.stdout_acc != pre.stdout_acc || post.stderr_acc != pre.stderr_acc);
        tally.brk_maps +=
            u64::from(post.brk != pre.brk && post.page_table_root != pre.page_table_root);
        tally.closes += u64::from(post.open_fds != pre.open_fds);
    }
}

/// Steps `vm` one instruction at a time, at most `budget` steps, checking the referee at each
/// one; stops at the end of the run. Returns the last header.
pub fn check_run(vm: &mut Vm, max_steps: u64, budget: u64, tally: &mut Tally) -> Header {
    // A prover that rehashes only changed pages; checked against the VM's own state and a
    // fresh `Vm::step_proof` every 251 steps and at the end.
    let mut prover = StepProver::new();
    let mut parts = prover.prove(vm, JOB, max_steps);
    assert_eq!(parts, vm.step_proof(JOB, max_steps));
    for n in 1..=budget {
        let pre = Header::decode(&parts.header).expect("the VM's header decodes");
        let proof = convert(&parts);
        let got = run_step(&pre, &proof);
        if pre.status != Status::Running {
            assert!(
                matches!(
                    got,
                    Err(StepError::Finished(_)) | Err(StepError::StepLimit { .. })
                ),
                "a finished state has no step: {got:?}"
            );
            assert_eq!(parts.header, vm.state(JOB, max_steps).encode());
            return pre;
        }
        let mut sink = VecSink::default();
        vm.run(&mut sink, 1).expect("a vec sink cannot fail");
        let next = prover.prove(vm, JOB, max_steps);
        if n % 251 == 0 || n == budget {
            // The proof's header is the VM's state, as `Vm::state` commits it.
            assert_eq!(next.header, vm.state(JOB, max_steps).encode());
            assert_eq!(next, vm.step_proof(JOB, max_steps));
        }
        let word = fetched_word(&pre, &proof);
        let r = got.unwrap_or_else(|e| {
            panic!(
                "step {} at pc {:#x} (word {word:#010x}, a7 {}) refused: {e}",
                pre.steps, pre.pc, pre.regs[17]
            )
        });
        let post = Header::decode(&next.header).expect("decodes");
        assert_eq!(
            r.post, post,
            "post-state at step {} pc {:#x} word {word:#010x} a7 {}",
            pre.steps, pre.pc, pre.regs[17]
        );
        assert_eq!(r.post.encode(), next.header);
        assert_eq!(r.post_commitment, post.commitment());
        assert_eq!(
            r.chunk,
            sink.0.first().copied(),
            "chunk at pc {:#x} word {word:#010x}",
            pre.pc
        );
        assert!(sink.0.len() <= 1);
        count(tally, &pre, &proof, &r.post, r.chunk.is_some());
        parts = next;
    }
    Header::decode(&parts.header).expect("decodes")
}
