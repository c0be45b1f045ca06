/* test/lib/check_main.h: the main() of every check program: run the suite, exit non-zero on
 * any failure. */
#pragma once

#include <check.h>
#include <stdlib.h>

#include "common/osb_mem.h"

#define OSB_CHECK_MAIN(suite_fn)                                        \
        int main(void)                                                  \
        {                                                               \
                osb_mem_setup();                                        \
                SRunner *sr = srunner_create(suite_fn());               \
                srunner_run_all(sr, CK_ENV);                            \
                int failed = srunner_ntests_failed(sr);                 \
                srunner_free(sr);                                       \
                return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;       \
        }
