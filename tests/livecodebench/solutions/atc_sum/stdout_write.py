# expect: pass
import sys

sys.stdin.readline()
sys.stdout.write(str(sum(map(int, sys.stdin.readline().split()))) + "\n")
