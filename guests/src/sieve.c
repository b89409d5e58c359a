/* Counts the primes below LIMIT with the sieve of Eratosthenes and prints the count and the
 * largest prime found. stdin may hold LIMIT in decimal (at most 16777216); default 1000000. */
#include "rt.h"

#define MAX_LIMIT (1u << 24)
static u8 composite[MAX_LIMIT];

int main(void) {
    static u8 in[32];
    usize len = read_all(in, sizeof in);
    u32 limit = 0;
    int digits = 0;
    for (usize i = 0; i < len; i++) {
        if (in[i] >= '0' && in[i] <= '9') {
            limit = limit * 10 + (in[i] - '0');
            digits = 1;
        } else if (digits) {
            break;
        }
    }
    if (!digits) limit = 1000000;
    if (limit > MAX_LIMIT) limit = MAX_LIMIT;
    u32 count = 0, largest = 0;
    for (u32 i = 2; i < limit; i++) {
        if (composite[i]) continue;
        count++;
        largest = i;
        for (u32 j = i * i; i < 65536 && j < limit; j += i) composite[j] = 1;
    }
    put_str("primes below ");
    put_u32(limit);
    put_str(": ");
    put_u32(count);
    put_str(", largest ");
    put_u32(largest);
    put_str("\n");
    return 0;
}
