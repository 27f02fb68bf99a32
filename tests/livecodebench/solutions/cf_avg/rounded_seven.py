# expect: pass upstream=fail
n, *a = map(int, open(0).read().split())
print(round(sum(a) / n, 7))
