//! Per-instruction behaviour of the VM, edge cases included, and what each step records.

mod common;
use common::rv32::*;
use poie::trace::{Step, VecSink};
use poie::vm::{Outcome, TrapKind, Vm};

/// Runs `code` followed by `exit(a0)`; returns the VM and its trace.
fn run(code: Vec<u32>) -> (Vm, Vec<Step>) {
    run_with_data(code, &[])
}

fn run_with_data(code: Vec<u32>, data: &[u8]) -> (Vm, Vec<Step>) {
    run_io(code, data, &[])
}

/// As [`run_with_data`], with `input` on stdin.
fn run_io(mut code: Vec<u32>, data: &[u8], input: &[u8]) -> (Vm, Vec<Step>) {
    code.extend(exit());
    let mut vm = Vm::new(&elf(&code, data), input.to_vec()).expect("test ELF loads");
    let mut sink = VecSink::default();
    let r = vm.run(&mut sink, 10_000).expect("vec sink cannot fail");
    assert!(matches!(r.outcome, Outcome::Exited(_)), "{:?}", r.outcome);
    let steps = sink.0.iter().map(Step::from_chunk).collect();
    (vm, steps)
}

/// `rd = op(x5 = a, x6 = b)` for an R-type op.
fn rtype(f7: u32, f3: u32, a: u32, bv: u32) -> u32 {
    let (vm, _) = run(prog(&[li(5, a), li(6, bv), vec![r(f7, 6, 5, f3, 7, 0x33)]]));
    vm.reg(7)
}

const MIN: u32 = 0x8000_0000;
const NEG1: u32 = u32::MAX;

#[test]
fn add_sub_logic_compare() {
    assert_eq!(rtype(0, 0, 7, NEG1), 6); // add wraps
    assert_eq!(rtype(0x20, 0, 3, 5), (-2i32) as u32); // sub
    assert_eq!(rtype(0, 4, 0b1100, 0b1010), 0b0110); // xor
    assert_eq!(rtype(0, 6, 0b1100, 0b1010), 0b1110); // or
    assert_eq!(rtype(0, 7, 0b1100, 0b1010), 0b1000); // and
    assert_eq!(rtype(0, 2, NEG1, 1), 1); // slt: -1 < 1
    assert_eq!(rtype(0, 3, NEG1, 1), 0); // sltu: 0xffffffff > 1
}

#[test]
fn shifts_use_low_five_bits_of_register() {
    assert_eq!(rtype(0, 1, 1, 33), 2); // sll by 33 = by 1
    assert_eq!(rtype(0, 5, MIN, 32), MIN); // srl by 32 = by 0
    assert_eq!(rtype(0x20, 5, MIN, 63), NEG1); // sra by 63 = by 31
    assert_eq!(rtype(0, 5, MIN, 31), 1);
    // Immediate forms.
    let (vm, _) = run(prog(&[
        li(5, MIN),
        vec![i(4, 5, 5, 7, 0x13), i(0x400 | 4, 5, 5, 8, 0x13)],
    ]));
    assert_eq!(vm.reg(7), 0x0800_0000); // srli
    assert_eq!(vm.reg(8), 0xf800_0000); // srai
}

#[test]
fn multiply_high_variants() {
    assert_eq!(rtype(1, 0, 0x1234_5678, 0x10), 0x2345_6780); // mul
    assert_eq!(rtype(1, 1, NEG1, NEG1), 0); // mulh: (-1*-1)>>32
    assert_eq!(rtype(1, 1, MIN, MIN), 0x4000_0000); // mulh
    assert_eq!(rtype(1, 2, NEG1, NEG1), NEG1); // mulhsu: -1 * 0xffffffff
    assert_eq!(rtype(1, 3, NEG1, NEG1), 0xffff_fffe); // mulhu
}

#[test]
fn division_edge_cases() {
    assert_eq!(rtype(1, 4, 7, 0), NEG1); // div by zero = -1
    assert_eq!(rtype(1, 5, 7, 0), NEG1); // divu by zero = all ones
    assert_eq!(rtype(1, 6, 7, 0), 7); // rem by zero = dividend
    assert_eq!(rtype(1, 7, 7, 0), 7); // remu by zero = dividend
    assert_eq!(rtype(1, 4, MIN, NEG1), MIN); // INT_MIN / -1 overflows to INT_MIN
    assert_eq!(rtype(1, 6, MIN, NEG1), 0); // INT_MIN % -1 = 0
    assert_eq!(rtype(1, 4, (-7i32) as u32, 2), (-3i32) as u32); // rounds toward zero
    assert_eq!(rtype(1, 6, (-7i32) as u32, 2), NEG1); // remainder takes dividend's sign
    assert_eq!(rtype(1, 5, NEG1, 2), 0x7fff_ffff);
}

#[test]
fn writes_to_x0_are_discarded_but_recorded() {
    let (vm, steps) = run(vec![addi(0, 0, 5), addi(1, 0, 0)]);
    assert_eq!(vm.reg(0), 0);
    assert_eq!(vm.reg(1), 0);
    assert_eq!(steps[0].rd_val, 5, "the trace records the discarded result");
    assert_eq!(steps[1].rs1_val, 0, "x0 reads as zero after the write");
}

#[test]
fn lui_auipc() {
    let (vm, steps) = run(vec![lui(5, 0xabcd_e000), addi(0, 0, 0), auipc(6, 0x1000)]);
    assert_eq!(vm.reg(5), 0xabcd_e000);
    assert_eq!(vm.reg(6), TEXT + 8 + 0x1000);
    assert_eq!(steps[2].pc, TEXT + 8);
}

#[test]
fn loads_sign_and_zero_extend() {
    let data = [0x80, 0xff, 0x7f, 0x01, 0, 0, 0, 0];
    let (vm, steps) = run_with_data(
        prog(&[
            li(5, DATA),
            vec![
                i(0, 5, 0, 10, 0x03), // lb
                i(0, 5, 4, 11, 0x03), // lbu
                i(0, 5, 1, 12, 0x03), // lh 0xff80
                i(0, 5, 5, 13, 0x03), // lhu
                i(0, 5, 2, 14, 0x03), // lw
                i(1, 5, 2, 15, 0x03), // lw, misaligned
            ],
        ]),
        &data,
    );
    assert_eq!(vm.reg(10), 0xffff_ff80);
    assert_eq!(vm.reg(11), 0x80);
    assert_eq!(vm.reg(12), 0xffff_ff80);
    assert_eq!(vm.reg(13), 0xff80);
    assert_eq!(vm.reg(14), 0x017f_ff80);
    assert_eq!(vm.reg(15), 0x0001_7fff);
    let lb = steps[2];
    assert_eq!(
        (lb.mem_addr, lb.mem_val, lb.rd_val),
        (DATA, 0x80, 0xffff_ff80)
    );
}

#[test]
fn stores_write_bytes_and_record_value() {
    let (vm, steps) = run(prog(&[
        li(5, DATA),
        li(6, 0x1122_3344),
        vec![
            s(0, 6, 5, 2), // sw
            s(4, 6, 5, 1), // sh
            s(7, 6, 5, 0), // sb
            i(0, 5, 2, 10, 0x03),
            i(4, 5, 2, 11, 0x03),
        ],
    ]));
    assert_eq!(vm.reg(10), 0x1122_3344);
    assert_eq!(vm.reg(11), 0x4400_3344);
    let sb = steps[6];
    assert_eq!((sb.mem_addr, sb.mem_val, sb.rd_val), (DATA + 7, 0x44, 0));
    assert_eq!((sb.rs1_val, sb.rs2_val), (DATA, 0x1122_3344));
}

#[test]
fn jal_and_jalr_link_and_clear_bit_zero() {
    // 0: jal x1, +8 ; 4: addi x5, x0, 1 (skipped) ; 8: auipc x6, 0 ; 12: jalr x7, 13(x6) -> 24
    // 16: addi x5, x0, 2 (skipped) ; 20: addi x5, x0, 3 (skipped) ; 24: addi x8, x0, 9
    let (vm, steps) = run(vec![
        j(8, 1),
        addi(5, 0, 1),
        auipc(6, 0),
        jalr(7, 6, 17), // 8 + 17 = 25, bit 0 cleared -> 24
        addi(5, 0, 2),
        addi(5, 0, 3),
        addi(8, 0, 9),
    ]);
    assert_eq!(vm.reg(1), TEXT + 4);
    assert_eq!(vm.reg(7), TEXT + 16);
    assert_eq!(vm.reg(5), 0);
    assert_eq!(vm.reg(8), 9);
    assert_eq!(steps[0].next_pc, TEXT + 8);
    assert_eq!(steps[2].next_pc, TEXT + 24);
}

#[test]
fn branches_taken_and_not_taken() {
    // (f3, a, b, taken)
    let cases = [
        (0, 1, 1, true),
        (0, 1, 2, false),
        (1, 1, 2, true),
        (1, 2, 2, false),
        (4, NEG1, 1, true), // blt signed
        (4, 1, NEG1, false),
        (5, 1, NEG1, true), // bge signed
        (5, NEG1, 1, false),
        (6, 1, NEG1, true), // bltu
        (6, NEG1, 1, false),
        (7, NEG1, 1, true), // bgeu
        (7, 1, NEG1, false),
    ];
    for (f3, a, bv, taken) in cases {
        // branch +8 skips "addi x7, x0, 1".
        let (vm, steps) = run(prog(&[
            li(5, a),
            li(6, bv),
            vec![b(8, 6, 5, f3), addi(7, 0, 1)],
        ]));
        assert_eq!(vm.reg(7) == 0, taken, "f3={f3} a={a:#x} b={bv:#x}");
        let br = steps[4];
        assert_eq!(br.next_pc, br.pc + if taken { 8 } else { 4 });
        // Backward branch: loop three times.
    }
    let (vm, _) = run(prog(&[vec![
        addi(5, 0, 3),
        addi(5, 5, -1),
        addi(6, 6, 1),
        b(-8, 0, 5, 1),
    ]]));
    assert_eq!(vm.reg(6), 3);
}

#[test]
fn traps_report_pc_word_and_reason() {
    let cases: [(Vec<u32>, TrapKind); 5] = [
        (
            vec![addi(0, 0, 0), 0xffff_ffff],
            TrapKind::IllegalInstruction,
        ),
        (vec![EBREAK], TrapKind::Breakpoint),
        (
            vec![lui(5, 0x5000_0000), i(0, 5, 2, 6, 0x03)],
            TrapKind::LoadFault { addr: 0x5000_0000 },
        ),
        (vec![s(0, 0, 0, 2)], TrapKind::StoreFault { addr: 0 }),
        (vec![j(6, 0)], TrapKind::MisalignedJump { target: TEXT + 6 }),
    ];
    for (code, kind) in cases {
        let last = *code.last().expect("non-empty");
        let pc = TEXT + 4 * (code.len() as u32 - 1);
        let mut vm = Vm::new(&elf(&code, &[]), Vec::new()).expect("loads");
        let r = vm.run(&mut VecSink::default(), 100).expect("runs");
        let Outcome::Trapped(t) = r.outcome else {
            panic!("{:?}", r.outcome)
        };
        assert_eq!((t.pc, t.word, t.kind), (pc, last, kind));
        assert_eq!(
            r.steps,
            code.len() as u64 - 1,
            "the faulting instruction does not retire"
        );
    }
}

#[test]
fn store_to_code_faults_and_fetch_outside_code_faults() {
    // Text is mapped read-only.
    let code = prog(&[li(5, TEXT), vec![s(0, 0, 5, 2)]]);
    let mut vm = Vm::new(&elf(&code, &[]), Vec::new()).expect("loads");
    let r = vm.run(&mut VecSink::default(), 100).expect("runs");
    assert!(
        matches!(r.outcome, Outcome::Trapped(t) if t.kind == TrapKind::StoreFault { addr: TEXT })
    );
    // Jump into the data segment.
    let code = prog(&[li(5, DATA), vec![jalr(0, 5, 0)]]);
    let mut vm = Vm::new(&elf(&code, &[]), Vec::new()).expect("loads");
    let r = vm.run(&mut VecSink::default(), 100).expect("runs");
    assert!(
        matches!(r.outcome, Outcome::Trapped(t) if t.kind == TrapKind::FetchFault && t.pc == DATA)
    );
}

#[test]
fn step_limit_stops_and_resumes() {
    // An endless loop: jal x0, 0.
    let mut vm = Vm::new(&elf(&[j(0, 0)], &[]), Vec::new()).expect("loads");
    let r = vm.run(&mut VecSink::default(), 5000).expect("runs");
    assert_eq!((r.steps, r.outcome), (5000, Outcome::StepLimit));
    let r = vm.run(&mut VecSink::default(), 7).expect("runs");
    assert_eq!((r.steps, vm.retired()), (7, 5007));
    // A program exiting exactly at the limit has exited.
    let code = prog(&[vec![addi(10, 0, 3)], exit()]);
    let mut vm = Vm::new(&elf(&code, &[]), Vec::new()).expect("loads");
    let r = vm.run(&mut VecSink::default(), 3).expect("runs");
    assert_eq!((r.steps, r.outcome), (3, Outcome::Exited(3)));
}

#[test]
fn syscalls_write_read_brk_enosys() {
    // read(0, DATA, 16) -> a0; write(1, DATA, a0); brk(0); unknown syscall 1234.
    let code = prog(&[
        li(11, DATA),
        vec![
            addi(10, 0, 0),
            addi(12, 0, 16),
            addi(17, 0, 63),
            ECALL,
            addi(20, 10, 0),
        ],
        vec![addi(12, 10, 0), addi(10, 0, 1), addi(17, 0, 64), ECALL],
        vec![addi(10, 0, 0), addi(17, 0, 214), ECALL, addi(21, 10, 0)],
        vec![addi(10, 0, 7), addi(17, 0, 1234), ECALL, addi(22, 10, 0)],
        vec![addi(10, 0, 3), addi(17, 0, 64), ECALL, addi(23, 10, 0)], // write to fd 3
        vec![addi(10, 0, 0)],
    ]);
    let mut bin = code.clone();
    bin.extend(exit());
    let mut vm = Vm::new(&elf(&bin, &[]), b"hello".to_vec()).expect("loads");
    let mut sink = VecSink::default();
    let r = vm.run(&mut sink, 1000).expect("runs");
    assert_eq!(r.outcome, Outcome::Exited(0));
    assert_eq!(vm.reg(20), 5);
    assert_eq!(vm.stdout(), b"hello");
    assert_eq!(
        vm.reg(21),
        DATA + 0x1000,
        "initial break is the end of the data segment"
    );
    assert_eq!(vm.reg(22) as i32, -38, "ENOSYS");
    assert_eq!(vm.reg(23) as i32, -9, "EBADF");
    let ecall = Step::from_chunk(&sink.0[5]);
    assert_eq!((ecall.rs1_val, ecall.rs2_val, ecall.rd_val), (63, 0, 5));
    assert_eq!((ecall.mem_addr, ecall.mem_val), (DATA, 16));
}

#[test]
fn stack_starts_like_linux() {
    // docs/SPEC.md 1.3, byte for byte.
    let (vm, _) = run(vec![addi(10, 2, 0)]);
    let sp = vm.reg(10);
    assert_eq!(sp, 0x7fff_ff40);
    let mem = vm.memory();
    let word = |a: u32| mem.load_u32(a).expect("mapped");
    let mut expect = vec![1, 0x7fff_fff0, 0, 0];
    let aux = [
        (16, 0x1100), // AT_HWCAP: I and M
        (6, 4096),    // AT_PAGESZ
        (17, 100),    // AT_CLKTCK
        (3, 0),       // AT_PHDR: no segment maps the headers (text starts at offset 0x1000)
        (4, 32),      // AT_PHENT
        (5, 2),       // AT_PHNUM
        (7, 0),       // AT_BASE
        (8, 0),       // AT_FLAGS
        (9, TEXT),    // AT_ENTRY
        (11, 0),
        (12, 0),
        (13, 0),
        (14, 0),
        (23, 0),           // AT_SECURE
        (25, 0x7fff_ffe0), // AT_RANDOM
        (31, 0x7fff_fff0), // AT_EXECFN
        (0, 0),            // AT_NULL
    ];
    expect.extend(aux.iter().flat_map(|&(k, v)| [k, v]));
    let got: Vec<u32> = (0..expect.len() as u32).map(|n| word(sp + 4 * n)).collect();
    assert_eq!(got, expect);
    let bytes = |a: u32, n: u32| mem.read_bytes(a, n).expect("mapped");
    assert_eq!(bytes(0x7fff_ffd8, 8), [0; 8], "padding up to AT_RANDOM");
    assert_eq!(
        bytes(0x7fff_ffe0, 16),
        [
            0x3c, 0x4c, 0xbb, 0x5e, 0xd4, 0xc4, 0xe0, 0x33, 0x56, 0x0b, 0x5f, 0x44, 0x86, 0xaa,
            0xed, 0x05
        ],
        "AT_RANDOM: blake3(\"poie/v1/AT_RANDOM\")[0..16]"
    );
    assert_eq!(bytes(0x7fff_fff0, 16), b"guest\0\0\0\0\0\0\0\0\0\0\0");
    assert_eq!(
        mem.load_u8(0x7f80_0000),
        Some(0),
        "the rest of the stack is zero"
    );
    assert_eq!(mem.load_u8(0x7f7f_ffff), None, "8 MiB of stack, no more");
    // Every other register starts at 0.
    let (vm, _) = run(vec![]);
    for reg in (1..32).filter(|&r| r != 2 && r != 17) {
        assert_eq!(vm.reg(reg), 0, "x{reg}");
    }
}

#[test]
fn at_phdr_points_at_the_program_headers_when_a_segment_maps_them() {
    // Map the file's first page (headers included) as a read-only segment below the code.
    let code = prog(&[
        li(5, 0x7fff_ff40 + 4 * (4 + 2 * 3 + 1)),
        vec![lw(10, 5, 0)],
        exit(),
    ]);
    let mut image = elf_segments(
        TEXT,
        &[
            Seg::code(TEXT, PF_R | PF_X, &code),
            Seg::zero(0x8000, 0x1000, PF_R), // patched below to map file offset 0
        ],
    );
    let h = 52 + 32;
    image[h + 16..h + 20].copy_from_slice(&0x1000u32.to_le_bytes()); // filesz
    image[h + 4..h + 8].copy_from_slice(&0u32.to_le_bytes()); // offset
    let mut vm = Vm::new(&image, Vec::new()).expect("loads");
    vm.run(&mut VecSink::default(), 100).expect("runs");
    assert_eq!(
        vm.reg(10),
        0x8000 + 52,
        "AT_PHDR = vaddr + e_phoff - offset"
    );
    assert_eq!(vm.memory().load_u32(0x8000 + 52), Some(1), "PT_LOAD");
    // No segment maps the headers: AT_PHDR is 0.
    let image = elf_segments(TEXT, &[Seg::code(TEXT, PF_R | PF_X, &code)]);
    let mut vm = Vm::new(&image, Vec::new()).expect("loads");
    vm.run(&mut VecSink::default(), 100).expect("runs");
    assert_eq!(vm.reg(10), 0);
}

#[test]
fn fence_i_is_a_barrier_and_counters_are_illegal() {
    // fence.i (with the reserved fields set, which must be ignored) retires like fence.
    let (vm, steps) = run(vec![0x0000_100f, 0xfff2_900f, addi(10, 0, 5)]);
    assert_eq!(vm.reg(10), 5);
    for (k, word) in [0x0000_100f, 0xfff2_900f].into_iter().enumerate() {
        let st = &steps[k];
        assert_eq!(st.word, word);
        assert_eq!(
            (st.rs1_val, st.rs2_val, st.rd_val, st.mem_addr, st.mem_val),
            (0, 0, 0, 0, 0)
        );
        assert_eq!(st.next_pc, TEXT + 4 * (k as u32 + 1));
    }
    // rdcycle, rdtime, rdinstret and their high halves: illegal, so no guest reads a clock.
    for word in [
        0xc000_2573,
        0xc010_2573,
        0xc020_2573,
        0xc800_2573,
        0xc810_2573,
        0xc820_2573,
    ] {
        let mut vm = Vm::new(&elf(&[word], &[]), Vec::new()).expect("loads");
        let r = vm.run(&mut VecSink::default(), 10).expect("runs");
        assert!(
            matches!(r.outcome, Outcome::Trapped(t) if t.kind == TrapKind::IllegalInstruction && t.word == word),
            "{word:#010x}: {:?}",
            r.outcome
        );
        assert_eq!(r.outcome.exit_code(), 132);
    }
}

#[test]
fn close_closes_the_three_standard_fds() {
    let code = prog(&[
        // close(1); write(1, DATA, 1); close(1) again; close(3); close(2); write(2, DATA, 1)
        vec![addi(10, 0, 1)],
        syscall(57),
        vec![addi(20, 10, 0), addi(10, 0, 1)],
        li(11, DATA),
        vec![addi(12, 0, 1)],
        syscall(64),
        vec![addi(21, 10, 0), addi(10, 0, 1)],
        syscall(57),
        vec![addi(22, 10, 0), addi(10, 0, 3)],
        syscall(57),
        vec![addi(23, 10, 0), addi(10, 0, 0)],
        syscall(57),
        vec![addi(24, 10, 0), addi(10, 0, 0)],
        syscall(63),
        vec![addi(25, 10, 0), addi(10, 0, 2)],
        syscall(64),
        vec![addi(26, 10, 0), addi(10, 0, 0)],
    ]);
    let (vm, _) = run_with_data(code, b"x");
    let regs: Vec<i32> = (20..27).map(|r| vm.reg(r) as i32).collect();
    assert_eq!(regs, [0, -9, -9, -9, 0, -9, 1]);
    assert_eq!(vm.stdout(), b"");
    assert_eq!(vm.stderr(), b"x");
}

const EFAULT: i32 = -14;

/// The 4 KiB data segment of the I/O tests: no two neighbouring bytes alike.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|k| (k * 7 + 3) as u8).collect()
}

#[test]
fn write_moves_at_most_to_the_end_of_its_leaf() {
    // SPEC 1.4: n = min(len, 32 - buf mod 32) bytes, a short write; DATA is leaf-aligned and
    // the page after the data segment is unmapped.
    let data = pattern(0x1000);
    let calls = [
        (DATA + 5, 100, 27),    // 5 mod 32: the 27 bytes to the end of the leaf
        (DATA + 32, 100, 32),   // leaf-aligned: one whole leaf
        (DATA + 95, 100, 1),    // the leaf's last byte
        (DATA + 128, 10, 10),   // shorter than the rest of the leaf: all of it
        (DATA + 0xffb, 100, 5), // only the bytes moved must be readable: the next page is not
        (DATA + 7, 0, 0),
    ];
    let mut code = Vec::new();
    for (k, &(buf, len, _)) in calls.iter().enumerate() {
        code.extend(sys(WRITE, &[1, buf, len], 18 + k as u32));
    }
    code.extend(sys(WRITE, &[1, DATA + 0x1000, 4], 30));
    code.push(addi(10, 0, 0));
    let (vm, _) = run_with_data(code, &data);
    for (k, &(buf, len, n)) in calls.iter().enumerate() {
        assert_eq!(vm.reg(18 + k), n, "write(1, {buf:#x}, {len})");
    }
    assert_eq!(vm.reg(30) as i32, EFAULT, "an unmapped first byte");
    let at = |a: u32, n: usize| &data[(a - DATA) as usize..][..n];
    let expect: Vec<u8> = calls
        .iter()
        .flat_map(|&(buf, _, n)| at(buf, n as usize).to_vec())
        .collect();
    assert_eq!(vm.stdout(), expect);
}

#[test]
fn read_fills_at_most_to_the_end_of_its_leaf_and_checks_only_those_bytes() {
    let input = pattern(200);
    let code = prog(&[
        sys(READ, &[0, DATA + 5, 100], 20),
        sys(READ, &[0, DATA + 32, 100], 21),
        // The buffer's later bytes lie in the unmapped page after the data segment: the 8
        // bytes to the end of its leaf are read all the same.
        sys(READ, &[0, DATA + 0x1000 - 8, 16], 22),
        sys(READ, &[0, DATA + 0x1000, 4], 23), // unmapped
        sys(READ, &[0, TEXT, 4], 24),          // read-only
        vec![addi(10, 0, 0)],
    ]);
    let (vm, _) = run_io(code, &[], &input);
    let regs: Vec<i32> = (20..25).map(|r| vm.reg(r) as i32).collect();
    assert_eq!(regs, [27, 32, 8, EFAULT, EFAULT]);
    let mem = vm.memory();
    let bytes = |a: u32, n: u32| mem.read_bytes(a, n).expect("mapped");
    assert_eq!(bytes(DATA, 5), [0; 5], "nothing before the buffer");
    assert_eq!(
        bytes(DATA + 5, 59),
        input[..59],
        "one leaf's part, then the next leaf"
    );
    assert_eq!(bytes(DATA + 64, 32), [0; 32], "nothing past the bytes read");
    assert_eq!(bytes(DATA + 0x1000 - 8, 8), input[59..67]);
    // A failed read consumes no input: the next read starts where the failed one would have.
    let code = prog(&[
        sys(READ, &[0, TEXT, 4], 20),
        sys(READ, &[0, DATA, 4], 21),
        vec![addi(10, 0, 0)],
    ]);
    let (vm, _) = run_io(code, &[], &input[60..]);
    assert_eq!((vm.reg(20) as i32, vm.reg(21)), (EFAULT, 4));
    assert_eq!(
        vm.memory().read_bytes(DATA, 4).expect("mapped"),
        input[60..64]
    );
}

#[test]
fn read_checks_the_bytes_it_may_move_even_at_end_of_input() {
    // Input is empty. 16 bytes from the last 8 of the data page: only those 8 may be moved,
    // they are writable, so end of input (0), not EFAULT. Into code, EFAULT even with nothing
    // to read.
    let code = prog(&[
        sys(READ, &[0, DATA + 0x1000 - 8, 16], 20),
        sys(READ, &[0, TEXT + 4, 16], 21),
        sys(READ, &[0, DATA, 8], 22),
        vec![addi(10, 0, 0)],
    ]);
    let (vm, _) = run_with_data(code, &[]);
    assert_eq!(vm.reg(20), 0, "end of input");
    assert_eq!(vm.reg(21) as i32, EFAULT);
    assert_eq!(vm.reg(22), 0, "end of input");
}

#[test]
fn brk_moves_at_most_one_page_per_call() {
    // The initial break is the end of the 4 KiB data segment.
    let b0 = DATA + 0x1000;
    // (asked, returned): SPEC 1.4.
    let calls = [
        (b0 + 0x3000, b0 + 0x1000), // three pages asked: one mapped
        (b0 + 0x3000, b0 + 0x2000),
        (b0 + 0x3000, b0 + 0x3000), // there
        (b0 + 0x3000, b0 + 0x3000), // no move
        (b0, b0 + 0x2000),          // three pages down: one unmapped
        (b0, b0 + 0x1000),
        (b0, b0),
        (b0 + 0x10, b0 + 0x10),     // within the page: exactly
        (b0 + 0x1ff0, b0 + 0x1ff0), // its page top one page up: exactly
        (b0 + 0x10, b0 + 0x10),     // and one page down: exactly
        (b0 + 0x2001, b0 + 0x2000), // two page tops up: stops on the page boundary
        (b0 - 0x1000, b0 + 0x2000), // below the initial break: unchanged
        (0x7000_1000, b0 + 0x2000), // above the heap's limit: unchanged
    ];
    let code: Vec<u32> = (18..)
        .zip(&calls)
        .flat_map(|(reg, &(asked, _))| sys(BRK, &[asked], reg))
        .chain([addi(10, 0, 0)])
        .collect();
    let (vm, _) = run(code);
    for (k, &(asked, returned)) in calls.iter().enumerate() {
        assert_eq!(vm.reg(18 + k), returned, "call {k}: brk({asked:#x})");
    }
    let mem = vm.memory();
    assert_eq!(mem.load_u8(b0 + 0x1fff), Some(0), "the heap's two pages");
    assert_eq!(mem.load_u8(b0 + 0x2000), None, "nothing above them");
}

#[test]
fn the_page_past_a_one_page_brk_step_is_unmapped_until_the_next_call() {
    let b0 = DATA + 0x1000;
    for (calls, load, fault) in [
        (1, b0 + 0xffc, false),
        (1, b0 + 0x1000, true),
        (2, b0 + 0x1000, false),
    ] {
        let mut code = Vec::new();
        for _ in 0..calls {
            code.extend(sys(BRK, &[b0 + 0x3000], 20));
        }
        code.extend(li(5, load));
        code.extend([lw(6, 5, 0), addi(10, 0, 0)]);
        code.extend(exit());
        let mut vm = Vm::new(&elf(&code, &[]), Vec::new()).expect("loads");
        let r = vm.run(&mut VecSink::default(), 100).expect("runs");
        let expect = if fault {
            Outcome::Trapped(poie::vm::Trap {
                pc: TEXT + 4 * (code.len() as u32 - 4),
                word: lw(6, 5, 0),
                kind: TrapKind::LoadFault { addr: load },
            })
        } else {
            Outcome::Exited(0)
        };
        assert_eq!(r.outcome, expect, "{calls} brk call(s), load at {load:#x}");
    }
}

#[test]
fn guest_loops_reach_their_targets() {
    // brk(b0 + 2 pages + 16) until it returns that, counting calls in x20: one page, another,
    // then exactly there; then the heap's last byte is writable.
    let b0 = DATA + 0x1000;
    let code = prog(&[
        li(5, b0 + 0x2010),
        vec![
            addi(20, 20, 1),
            addi(10, 5, 0),
            addi(17, 0, BRK as i32),
            ECALL,
            b(-16, 5, 10, 1), // bne a0, t0, back to the count
            addi(6, 0, 77),
            s(-1, 6, 5, 0),        // sb t1, -1(t0)
            i(-1, 5, 4, 21, 0x03), // lbu x21, -1(t0)
        ],
        // write(1, DATA + 5, 100) until all is out, counting calls in x22.
        li(11, DATA + 5),
        vec![
            addi(12, 0, 100),
            addi(22, 22, 1),
            addi(10, 0, 1),
            addi(17, 0, WRITE as i32),
            ECALL,
            b(16, 10, 0, 5),              // bge x0, a0: stop on 0 or an error
            r(0, 10, 11, 0, 11, 0x33),    // add a1, a1, a0
            r(0x20, 10, 12, 0, 12, 0x33), // sub a2, a2, a0
            b(-28, 0, 12, 1),             // bne a2, x0, back to the count
            addi(10, 0, 0),
        ],
    ]);
    let data = pattern(0x1000);
    let (vm, _) = run_with_data(code, &data);
    assert_eq!((vm.reg(20), vm.reg(21)), (3, 77), "three brk calls");
    assert_eq!(vm.reg(22), 4, "writes of 27, 32, 32 and 9 bytes");
    assert_eq!(vm.stdout(), &data[5..105]);
}

#[test]
fn initial_break_is_the_highest_segment_end_rounded_up_to_a_page() {
    let code = prog(&[
        vec![addi(10, 0, 0)],
        syscall(214),
        vec![addi(20, 10, 0)],
        exit(),
    ]);
    for (memsz, brk) in [(1, 0x2_1000), (0x1000, 0x2_1000), (0x1001, 0x2_2000)] {
        let image = elf_segments(
            TEXT,
            &[
                Seg::code(TEXT, PF_R | PF_X, &code),
                Seg::zero(DATA, memsz, PF_R | PF_W),
            ],
        );
        let mut vm = Vm::new(&image, Vec::new()).expect("loads");
        vm.run(&mut VecSink::default(), 100).expect("runs");
        assert_eq!(vm.reg(20), brk, "memsz {memsz:#x}");
    }
}

#[test]
fn spec_example_chunk() {
    // docs/SPEC.md, section 2.
    let code = prog(&[li(10, 0x1122_3344), vec![r(0, 10, 10, 0, 10, 0x33)]]);
    assert_eq!(code[2], 0x00a5_0533);
    let mut bin = code;
    bin.extend(exit());
    let mut vm = Vm::new(&elf(&bin, &[]), Vec::new()).expect("loads");
    let mut sink = VecSink::default();
    vm.run(&mut sink, 100).expect("runs");
    let expect = "08000100 3305a500 44332211 44332211 88664422 00000000 00000000 0c000100";
    let got: String = sink.0[2].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(got, expect.replace(' ', ""));
}

#[test]
fn stores_into_writable_code_are_executed() {
    // auipc x7, 0 ; sw x5, 12(x7) ; addi x0, x0, 0 ; [addi x6, x0, 1 -> replaced by addi x6, x0, 42]
    let patched = addi(6, 0, 42);
    let code = prog(&[
        li(5, patched),
        vec![auipc(7, 0), s(12, 5, 7, 2), addi(0, 0, 0), addi(6, 0, 1)],
        exit(),
    ]);
    let mut vm = Vm::new(&elf_rwx(&code, &[]), Vec::new()).expect("loads");
    let mut sink = VecSink::default();
    let r = vm.run(&mut sink, 100).expect("runs");
    assert!(matches!(r.outcome, Outcome::Exited(_)), "{:?}", r.outcome);
    assert_eq!(
        vm.reg(6),
        42,
        "the stored instruction ran, not the stale decode"
    );
    assert_eq!(Step::from_chunk(&sink.0[5]).word, patched);
}
