from vpp.cli import app

app()
