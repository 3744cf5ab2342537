# sluice.m4 - Autoconf macros for building Sluice broker modules out of tree
# (installed to $(datadir)/aclocal by Sluice's "make install").
#
# serial 1
#
# Usage in a module's configure.ac:
#
#   LT_INIT([disable-static])
#   SLUICE_MODULE_SDK([1])          # needs plugin ABI 1.1 or newer (default 1.0)
#
# and in its Makefile.am:
#
#   sluice_module_LTLIBRARIES = service_x.la
#   service_x_la_CFLAGS  = $(SLUICE_PLUGIN_CFLAGS) $(SLUICE_MODULE_CFLAGS)
#   service_x_la_LDFLAGS = -module $(SLUICE_MODULE_LDFLAGS)   # automake must see -module
#   AM_DISTCHECK_CONFIGURE_FLAGS = --with-sluice-moduledir='$$(libdir)/sluice/modules'
#
# When Sluice is installed under a DESTDIR or an unusual prefix, point
# pkg-config at it: PKG_CONFIG_PATH=<dir of sluice-plugin.pc> and, if it was
# staged with DESTDIR, PKG_CONFIG="pkg-config --define-variable=prefix=<DESTDIR><prefix>".

# SLUICE_MODULE_SDK([MIN-ABI-MINOR])
# ----------------------------------
# Finds the SDK with pkg-config (sluice-plugin.pc), checks that
# <sluice/plugin.h> compiles with it, that its ABI major is 1 and its minor
# at least MIN-ABI-MINOR (default 0), and substitutes:
#   SLUICE_PLUGIN_CFLAGS   the -I flags for <sluice/plugin.h>
#   SLUICE_MODULE_CFLAGS   -fvisibility=hidden: only sluice_module is exported
#   SLUICE_MODULE_LDFLAGS  libtool flags for a dlopen()able module exporting
#                          only sluice_module (-module -avoid-version -shared
#                          -export-symbols-regex '^sluice_module$')
#   sluice_moduledir       where "make install" puts the module: the SDK's
#                          moduledir, or --with-sluice-moduledir=DIR
#   SLUICE_ABI_MAJOR, SLUICE_ABI_MINOR   the ABI of the header found
AC_DEFUN([SLUICE_MODULE_SDK], [
  AC_REQUIRE([AC_PROG_CC])
  AC_REQUIRE([PKG_PROG_PKG_CONFIG])
  PKG_CHECK_MODULES([SLUICE_PLUGIN], [sluice-plugin], [],
    [AC_MSG_ERROR([the Sluice plugin SDK (sluice-plugin.pc) was not found: install Sluice, or set PKG_CONFIG_PATH to the directory holding sluice-plugin.pc])])

  AC_ARG_WITH([sluice-moduledir],
    [AS_HELP_STRING([--with-sluice-moduledir=DIR],
      [install the module into DIR (default: the moduledir of sluice-plugin.pc)])],
    [sluice_moduledir=$withval],
    [PKG_CHECK_VAR([sluice_moduledir], [sluice-plugin], [moduledir])])
  AS_IF([test -z "$sluice_moduledir"],
    [AC_MSG_ERROR([sluice-plugin.pc defines no moduledir; use --with-sluice-moduledir=DIR])])

  sluice_save_CPPFLAGS=$CPPFLAGS
  CPPFLAGS="$CPPFLAGS $SLUICE_PLUGIN_CFLAGS"
  AC_CHECK_HEADER([sluice/plugin.h], [],
    [AC_MSG_ERROR([<sluice/plugin.h> does not compile with SLUICE_PLUGIN_CFLAGS ($SLUICE_PLUGIN_CFLAGS)])])
  AC_MSG_CHECKING([for the Sluice plugin ABI version])
  AC_COMPUTE_INT([SLUICE_ABI_MAJOR], [SLUICE_ABI_MAJOR], [#include <sluice/plugin.h>],
    [AC_MSG_ERROR([cannot read SLUICE_ABI_MAJOR from <sluice/plugin.h>])])
  AC_COMPUTE_INT([SLUICE_ABI_MINOR], [SLUICE_ABI_MINOR], [#include <sluice/plugin.h>],
    [AC_MSG_ERROR([cannot read SLUICE_ABI_MINOR from <sluice/plugin.h>])])
  CPPFLAGS=$sluice_save_CPPFLAGS
  AC_MSG_RESULT([$SLUICE_ABI_MAJOR.$SLUICE_ABI_MINOR])
  AS_IF([test "$SLUICE_ABI_MAJOR" != 1],
    [AC_MSG_ERROR([this sluice.m4 knows plugin ABI 1.x, the installed header is $SLUICE_ABI_MAJOR.$SLUICE_ABI_MINOR])])
  AS_IF([test "$SLUICE_ABI_MINOR" -lt m4_default([$1], [0])],
    [AC_MSG_ERROR([this module needs Sluice plugin ABI 1.m4_default([$1], [0]) or newer, the installed header is 1.$SLUICE_ABI_MINOR])])

  SLUICE_MODULE_CFLAGS="-fvisibility=hidden"
  SLUICE_MODULE_LDFLAGS="-module -avoid-version -shared -export-symbols-regex '^sluice_module\$\$'"
  AC_SUBST([SLUICE_MODULE_CFLAGS])
  AC_SUBST([SLUICE_MODULE_LDFLAGS])
  AC_SUBST([sluice_moduledir])
  AC_SUBST([SLUICE_ABI_MAJOR])
  AC_SUBST([SLUICE_ABI_MINOR])
])
