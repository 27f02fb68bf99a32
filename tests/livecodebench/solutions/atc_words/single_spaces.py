# expect: pass
words = input().split()
print(" ".join(reversed(words)))
print("Yes" if len(words) % 2 == 0 else "No")
