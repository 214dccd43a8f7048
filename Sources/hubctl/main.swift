import HubCLI

await Hubctl.runMain()
