# expect: pass upstream=fail upstream_test=0
words = input().split()
print("  ".join(reversed(words)))
print("Yes" if len(words) % 2 == 0 else "No")
