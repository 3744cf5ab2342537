"""Adds a SCRAM-SHA-256 (4096 iterations) and SCRAM-SHA-512 (8192)
credential for USER with AlterUserScramCredentials, as the super user
admin over PLAIN (password in PW_ADMIN).
usage: scram_user.py PORT USER PASSWORD"""
import os
import sys

import sasl_raw_lib as L
from taplib import Tap

t = Tap()
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
L.init(port, os.environ["PW_ADMIN"])
s = L.admin_conn()
salt = os.urandom(16)
res = L.alter(s, [], [(user, 1, 4096, salt, L.salted_password(1, pw, salt, 4096)),
                      (user, 2, 8192, salt, L.salted_password(2, pw, salt, 8192))])
t.is_(res, [(user, 0, None)], "AlterUserScramCredentials adds %s (SHA-256 and SHA-512)" % user)
sys.exit(1 if t.failed else 0)
