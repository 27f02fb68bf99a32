# expect: error test=2
def tri(n):
    return 0 if n == 0 else n + tri(n - 1)


print(tri(int(input())))
