/* Sorts N pseudo-random words (xorshift32 from a seed) with an in-place heapsort, then prints
 * N, whether the result is sorted, and an order-sensitive checksum. stdin may hold "N SEED" in
 * decimal; otherwise N = 100000, SEED = 1. */
#include "rt.h"

#define MAX_N (1u << 20)
static u32 a[MAX_N];

static u32 parse_u32(const u8 **p, const u8 *end, u32 dflt) {
    while (*p < end && (**p < '0' || **p > '9')) (*p)++;
    if (*p == end) return dflt;
    u32 v = 0;
    while (*p < end && **p >= '0' && **p <= '9') v = v * 10 + (u32)(*(*p)++ - '0');
    return v;
}

static void sift(u32 *v, u32 root, u32 n) {
    for (;;) {
        u32 child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && v[child + 1] > v[child]) child++;
        if (v[root] >= v[child]) return;
        u32 t = v[root];
        v[root] = v[child];
        v[child] = t;
        root = child;
    }
}

int main(void) {
    static u8 in[64];
    usize len = read_all(in, sizeof in);
    const u8 *p = in, *end = in + len;
    u32 n = parse_u32(&p, end, 100000);
    u32 x = parse_u32(&p, end, 1);
    if (n > MAX_N) n = MAX_N;
    if (x == 0) x = 1;
    for (u32 i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        a[i] = x;
    }
    for (u32 i = n / 2; i-- > 0;) sift(a, i, n);
    for (u32 end_ = n; end_ > 1; end_--) {
        u32 t = a[0];
        a[0] = a[end_ - 1];
        a[end_ - 1] = t;
        sift(a, 0, end_ - 1);
    }
    u32 sorted = 1, sum = 0;
    for (u32 i = 0; i < n; i++) {
        if (i && a[i - 1] > a[i]) sorted = 0;
        sum = sum * 31 + a[i];
    }
    put_str("n=");
    put_u32(n);
    put_str(" sorted=");
    put_u32(sorted);
    put_str(" checksum=");
    put_u32(sum);
    put_str("\n");
    return sorted ? 0 : 1;
}
