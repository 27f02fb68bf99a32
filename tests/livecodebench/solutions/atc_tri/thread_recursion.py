# expect: pass
import sys
import threading


def tri(n):
    return 0 if n == 0 else n + tri(n - 1)


def main():
    print(tri(int(sys.stdin.readline())))


sys.setrecursionlimit(1 << 20)
threading.stack_size(1 << 27)
threading.Thread(target=main).start()
