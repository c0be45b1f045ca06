/* common/banned.h: functions that do not compile in Bindery (included last by osb_compat.h).
 * Use snprintf, osb_buf_* and the osb_parse_* helpers instead. */
#pragma once

#define OSB_BANNED(f) sorry_##f##_is_banned_see_common_banned_h

#undef strcpy
#define strcpy(d, s) OSB_BANNED(strcpy)
#undef strcat
#define strcat(d, s) OSB_BANNED(strcat)
#undef strncpy
#define strncpy(d, s, n) OSB_BANNED(strncpy)
#undef strncat
#define strncat(d, s, n) OSB_BANNED(strncat)
#undef sprintf
#define sprintf(...) OSB_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) OSB_BANNED(vsprintf)
#undef strtok
#define strtok(s, d) OSB_BANNED(strtok)
#undef gets
#define gets(s) OSB_BANNED(gets)
#undef sscanf
#define sscanf(...) OSB_BANNED(sscanf)
#undef atoi
#define atoi(s) OSB_BANNED(atoi)
#undef atol
#define atol(s) OSB_BANNED(atol)
#undef atoll
#define atoll(s) OSB_BANNED(atoll)
