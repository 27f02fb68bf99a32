# expect: fail test=0
words = input().split()
print(" ".join(reversed(words)))
print("yes" if len(words) % 2 == 0 else "no")
