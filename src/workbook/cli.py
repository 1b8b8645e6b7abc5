import typer
app = typer.Typer()
@app.command()
def list_():
    pass
