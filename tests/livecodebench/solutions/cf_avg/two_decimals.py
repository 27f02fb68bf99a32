# expect: fail test=0
n, *a = map(int, open(0).read().split())
print(f"{sum(a) / n:.2f}")
