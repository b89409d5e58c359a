/* Prints the SHA-256 of stdin, then re-hashes the digest `rounds` more times, where rounds is
 * 1000 (a compute-heavy loop that makes a steady benchmark). Output: two hex lines. */
#include "sha256.h"

static u8 input[1 << 20];

int main(void) {
    usize n = read_all(input, sizeof input);
    u8 d[32];
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, input, n);
    sha256_final(&c, d);
    put_hex(d, 32);
    put_str("\n");
    for (int i = 0; i < 1000; i++) {
        sha256_init(&c);
        sha256_update(&c, d, 32);
        sha256_final(&c, d);
    }
    put_hex(d, 32);
    put_str("\n");
    return 0;
}
