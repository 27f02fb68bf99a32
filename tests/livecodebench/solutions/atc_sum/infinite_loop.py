# expect: timeout test=0
while True:
    pass
