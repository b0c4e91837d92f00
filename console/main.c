/* twinline-console: see console_cli.h and docs/http.md. */
#include <stdio.h>

#include "console_cli.h"

int main(int argc, char **argv)
{
    return console_cli_main(argc, argv, stdout, stderr);
}
