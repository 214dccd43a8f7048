print("hubctl")
