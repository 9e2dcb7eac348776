from .cli import app

app(prog_name="iso20k-sync")
