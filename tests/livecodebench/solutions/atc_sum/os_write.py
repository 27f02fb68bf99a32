# expect: pass
import os
import sys

sys.stdin.readline()
os.write(1, b"%d\n" % sum(map(int, sys.stdin.readline().split())))
