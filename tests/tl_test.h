/*
 * cmocka needs <setjmp.h>, <stdarg.h> and <stddef.h> before <cmocka.h>;
 * test files include this header instead, so include sorting can't break
 * that order.
 */
#ifndef TL_TEST_H
#define TL_TEST_H

/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
/* clang-format on */

#endif
