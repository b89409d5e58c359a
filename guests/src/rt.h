/* Tiny freestanding runtime for poie guests: _start, Linux rv32 syscalls, memcpy/memset and
 * a few output helpers. Every guest is a pure function of its stdin. */
#ifndef POIE_RT_H
#define POIE_RT_H

typedef unsigned char u8;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;
typedef unsigned int usize;

/* argc/argv are ignored: guests take all input from stdin. gp is set for linker relaxation.
 * A guest that reads its initial stack defines RT_OWN_START and its own _start. */
#ifndef RT_OWN_START
__asm__(".section .text._start\n"
        ".globl _start\n"
        "_start:\n"
        ".option push\n.option norelax\n"
        "  la gp, __global_pointer$\n"
        ".option pop\n"
        "  call main\n"
        "  li a7, 93\n"
        "  ecall\n"
        "  j _start\n"
        ".text\n");
#endif

static inline long sys3(long n, long a, long b, long c) {
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

#define SYS_read 63
#define SYS_write 64
#define SYS_exit 93
#define SYS_brk 214
/* No guest here grows its break. One that does must call brk until it returns the address asked
 * for: poie moves the break at most one page per call (docs/SPEC.md 1.4), as a libc's loop
 * expects of a kernel that may stop short. */

static inline long sys_read(void *buf, usize len) { return sys3(SYS_read, 0, (long)buf, len); }
static inline long sys_write(int fd, const void *buf, usize len) {
    return sys3(SYS_write, fd, (long)buf, len);
}
static inline void sys_exit(int code) {
    sys3(SYS_exit, code, 0, 0);
    for (;;) {
    }
}

void *memcpy(void *dst, const void *src, usize n) {
    u8 *d = dst;
    const u8 *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, usize n) {
    u8 *d = dst;
    while (n--) *d++ = (u8)c;
    return dst;
}

static inline usize str_len(const char *s) {
    usize n = 0;
    while (s[n]) n++;
    return n;
}

/* Writes all n bytes to fd, or stops at the first error. A write may be short (Linux allows it,
 * and poie moves at most to the end of the buffer's 32-byte memory leaf per call, so that one
 * step's proof needs one leaf: docs/SPEC.md 1.4), so loop until every byte is out. A result of
 * 0 or less (an error, or nothing written) ends the loop rather than spinning. */
static inline void write_all(int fd, const void *buf, usize n) {
    const u8 *p = buf;
    while (n > 0) {
        long r = sys_write(fd, p, n);
        if (r <= 0) break;
        p += r;
        n -= (usize)r;
    }
}

static inline void put_str(const char *s) { write_all(1, s, str_len(s)); }

static inline void put_u32(u32 v) {
    char buf[12];
    int i = 11;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_str(&buf[i]);
}

static inline void put_hex(const u8 *bytes, usize n) {
    static const char digits[] = "0123456789abcdef";
    char buf[2];
    for (usize i = 0; i < n; i++) {
        buf[0] = digits[bytes[i] >> 4];
        buf[1] = digits[bytes[i] & 15];
        write_all(1, buf, 2); /* buf may straddle a leaf boundary: even 2 bytes can be short */
    }
}

/* Reads all of stdin into buf (at most cap bytes); returns the length. Each read may be short
 * (under poie it fills at most the rest of one 32-byte leaf, docs/SPEC.md 1.4), so loop until
 * end of input (0), an error (< 0) or a full buffer. */
static inline usize read_all(u8 *buf, usize cap) {
    usize n = 0;
    while (n < cap) {
        long r = sys_read(buf + n, cap - n);
        if (r <= 0) break;
        n += (usize)r;
    }
    return n;
}

#endif
