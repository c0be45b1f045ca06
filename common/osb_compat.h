/* common/osb_compat.h: the first include of every .c file. Gathers config.h, the system and
 * dependency headers we use, the cleanup macros, and banned.h last (it makes strcpy, sprintf,
 * atoi and friends fail to compile). */
#pragma once

#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sqlite3.h>
#include <curl/curl.h>

#include "common/osb_macro.h"
#include "common/banned.h"
