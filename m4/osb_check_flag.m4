# AX_CHECK_COMPILE_FLAG(FLAG, [ACTION-OK], [ACTION-FAIL], [EXTRA-FLAGS])
# Bindery's own small probe: does the C compiler accept FLAG (with EXTRA-FLAGS)?
AC_DEFUN([AX_CHECK_COMPILE_FLAG], [
  AS_VAR_PUSHDEF([osb_var], [osb_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [osb_var], [
    osb_save_cflags=$CFLAGS
    CFLAGS="$CFLAGS $4 $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
                      [AS_VAR_SET([osb_var], [yes])], [AS_VAR_SET([osb_var], [no])])
    CFLAGS=$osb_save_cflags])
  AS_VAR_IF([osb_var], [yes], [m4_default([$2], :)], [m4_default([$3], :)])
  AS_VAR_POPDEF([osb_var])])
