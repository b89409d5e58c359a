/* Prints what the kernel hands a static executable at start, as "key=value" lines: argc, argv,
 * envp, the auxiliary vector (keys in order, AT_PAGESZ, AT_RANDOM, AT_PHDR...), the alignment of
 * sp and the initial break; then checks that fence.i runs and that close(2) closes. Exits 0 when
 * a write to a closed stdout fails with EBADF. Ignores stdin.
 *
 * Under poie every line is fixed by docs/SPEC.md 1.3; under qemu-riscv32 argv0, execfn, random,
 * hwcap, auxv and the ids depend on the host, and the other lines match poie's. */
#define RT_OWN_START
#include "rt.h"

#define SYS_close 57
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_ENTRY 9
#define AT_UID 11
#define AT_GID 13
#define AT_HWCAP 16
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_EXECFN 31

/* The C code gets the initial sp as its argument, before anything is pushed. */
__asm__(".section .text._start\n"
        ".globl _start\n"
        "_start:\n"
        ".option push\n.option norelax\n"
        "  la gp, __global_pointer$\n"
        ".option pop\n"
        "  mv a0, sp\n"
        "  call start\n"
        "  li a7, 93\n"
        "  ecall\n"
        ".text\n");

extern char _start[];

static void put_kv(const char *key, const char *val) {
    put_str(key);
    put_str("=");
    put_str(val);
    put_str("\n");
}

static void put_num(const char *key, long v) {
    put_str(key);
    put_str("=");
    if (v < 0) {
        put_str("-");
        put_u32((u32)-v);
    } else {
        put_u32((u32)v);
    }
    put_str("\n");
}

static u32 aux(const u32 *auxv, u32 key) {
    for (const u32 *a = auxv; a[0] != 0; a += 2)
        if (a[0] == key) return a[1];
    return 0;
}

int start(u32 *sp) {
    u32 argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    u32 envc = 0;
    while (envp[envc]) envc++;
    const u32 *auxv = (const u32 *)(envp + envc + 1);

    put_num("argc", argc);
    put_kv("argv0", argc > 0 && argv[0] ? argv[0] : "(none)");
    put_kv("argv_end", argv[argc] ? "not-null" : "null");
    put_num("envc", envc);
    put_num("sp_mod16", (u32)sp % 16);

    put_str("auxv=");
    for (const u32 *a = auxv; a[0] != 0; a += 2) {
        put_u32(a[0]);
        put_str(a[2] ? "," : "");
    }
    put_str("\n");
    u32 pagesz = aux(auxv, AT_PAGESZ);
    put_num("pagesz", pagesz);
    put_num("phent", aux(auxv, AT_PHENT));
    put_num("phnum", aux(auxv, AT_PHNUM));
    /* AT_PHDR must point at the program headers: count the PT_LOAD entries and find the end of
     * the highest segment, where the break starts. */
    const u8 *phdr = (const u8 *)aux(auxv, AT_PHDR);
    u32 loads = 0, end = 0;
    for (u32 i = 0; phdr && i < aux(auxv, AT_PHNUM); i++) {
        const u32 *ph = (const u32 *)(phdr + i * aux(auxv, AT_PHENT));
        if (ph[0] != 1) continue;
        loads++;
        if (ph[2] + ph[5] > end) end = ph[2] + ph[5];
    }
    put_num("pt_loads", loads);
    put_num("entry_is_start", aux(auxv, AT_ENTRY) == (u32)_start);
    put_num("hwcap", aux(auxv, AT_HWCAP));
    put_num("uid", aux(auxv, AT_UID));
    put_num("gid", aux(auxv, AT_GID));
    put_num("secure", aux(auxv, AT_SECURE));
    const u8 *random = (const u8 *)aux(auxv, AT_RANDOM);
    put_str("random=");
    if (random) put_hex(random, 16);
    put_str("\n");
    const char *execfn = (const char *)aux(auxv, AT_EXECFN);
    put_kv("execfn", execfn ? execfn : "(none)");

    u32 brk0 = (u32)sys3(SYS_brk, 0, 0, 0);
    put_num("brk_page_aligned", pagesz && brk0 % pagesz == 0);
    put_num("brk_is_end_rounded_up", loads && brk0 == ((end + 4095) & ~4095u));

    /* fence.i, spelled as its word: -march=rv32im has no Zifencei. */
    __asm__ volatile(".word 0x0000100f" ::: "memory");
    put_kv("fence_i", "ok");

    char c;
    put_num("close0", sys3(SYS_close, 0, 0, 0));
    put_num("read_closed", sys_read(&c, 1));
    put_num("close0_again", sys3(SYS_close, 0, 0, 0));
    put_num("close7", sys3(SYS_close, 7, 0, 0));
    put_num("close1", sys3(SYS_close, 1, 0, 0));
    return sys_write(1, "x", 1) == -9 ? 0 : 3;
}
