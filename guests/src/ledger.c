/* The executor workload: applies a block of transfers to account balances and prints a digest
 * of the resulting state.
 *
 * Input (stdin, text): one transfer per line, "FROM TO AMOUNT" in decimal; lines starting with
 * '#' and blank lines are ignored. There are 4096 accounts, each starting with balance 1000000.
 * A transfer is applied when FROM and TO are valid account numbers, FROM != TO and FROM holds at
 * least AMOUNT; otherwise it is rejected. Any other line is malformed and counts as rejected.
 *
 * Output: "applied=A rejected=R" and "state=<hex SHA-256 of the 4096 balances as little-endian
 * u32 words>". The exit status is 0. */
#include "sha256.h"

#define ACCOUNTS 4096
#define INITIAL 1000000u

static u32 balance[ACCOUNTS];
static u8 block[1 << 22];

/* Parses a decimal number; returns 0 on failure. At most 9 digits so it cannot overflow. */
static int number(const u8 **p, const u8 *end, u32 *out) {
    while (*p < end && (**p == ' ' || **p == '\t')) (*p)++;
    u32 v = 0;
    int n = 0;
    while (*p < end && **p >= '0' && **p <= '9' && n < 10) {
        v = v * 10 + (u32)(*(*p)++ - '0');
        n++;
    }
    if (n == 0 || n > 9) return 0;
    *out = v;
    return 1;
}

int main(void) {
    usize len = read_all(block, sizeof block);
    for (u32 i = 0; i < ACCOUNTS; i++) balance[i] = INITIAL;
    u32 applied = 0, rejected = 0;
    const u8 *p = block, *end = block + len;
    while (p < end) {
        const u8 *eol = p;
        while (eol < end && *eol != '\n') eol++;
        const u8 *q = p;
        while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q < eol && *q != '#') {
            u32 from, to, amount;
            int ok = number(&q, eol, &from) && number(&q, eol, &to) && number(&q, eol, &amount);
            while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
            if (ok && q == eol && from < ACCOUNTS && to < ACCOUNTS && from != to &&
                balance[from] >= amount) {
                balance[from] -= amount;
                balance[to] += amount;
                applied++;
            } else {
                rejected++;
            }
        }
        p = eol + 1;
    }
    u8 le[4 * ACCOUNTS];
    for (u32 i = 0; i < ACCOUNTS; i++) {
        le[4 * i] = (u8)balance[i];
        le[4 * i + 1] = (u8)(balance[i] >> 8);
        le[4 * i + 2] = (u8)(balance[i] >> 16);
        le[4 * i + 3] = (u8)(balance[i] >> 24);
    }
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, le, sizeof le);
    u8 d[32];
    sha256_final(&c, d);
    put_str("applied=");
    put_u32(applied);
    put_str(" rejected=");
    put_u32(rejected);
    put_str("\nstate=");
    put_hex(d, 32);
    put_str("\n");
    return 0;
}
