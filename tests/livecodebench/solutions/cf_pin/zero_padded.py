# expect: pass
print(f"{int(input()):04d}")
