# expect: pass
n, *a = map(int, open(0).read().split())
print(f"{sum(a) / n:.10f}")
