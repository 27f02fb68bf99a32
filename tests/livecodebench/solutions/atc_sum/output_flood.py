# expect: error test=0
while True:
    print("x" * 4096)
