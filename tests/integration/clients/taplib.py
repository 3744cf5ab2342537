"""Minimal TAP output for client scripts run by lib.sh's run_client.

The .t script renumbers the lines and pads missing ones, so clients print
"ok - desc" / "not ok - desc" and never need to count exactly; plan() lets
run_client detect assertions skipped by a crash."""
import sys
import traceback


class Tap:
    def __init__(self):
        self.failed = 0

    def plan(self, n):
        print("1..%d" % n, flush=True)

    def ok(self, cond, desc):
        print("%s - %s" % ("ok" if cond else "not ok", desc), flush=True)
        if not cond:
            self.failed += 1
        return bool(cond)

    def is_(self, got, want, desc):
        r = self.ok(got == want, desc)
        if not r:
            self.diag("got:      %r" % (got,))
            self.diag("expected: %r" % (want,))
        return r

    def skip(self, desc, reason):
        print("ok - %s # SKIP %s" % (desc, reason), flush=True)

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line, flush=True)

    def run(self, desc, fn, *args, **kw):
        """Call fn; an exception is a failed assertion, not a crash."""
        try:
            return fn(*args, **kw)
        except Exception as e:  # noqa: BLE001 - report anything
            self.ok(False, "%s (raised %s: %s)" % (desc, type(e).__name__, e))
            self.diag(traceback.format_exc())
            return None
