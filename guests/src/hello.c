/* Prints a fixed greeting. The smallest end-to-end check of the loader and write(2). */
#include "rt.h"

int main(void) {
    put_str("Hello from rv32im!\n");
    return 0;
}
