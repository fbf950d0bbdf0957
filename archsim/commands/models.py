"""``archsim models``: list the model zoo."""

NAME = "models"
HELP = "list the models in the model zoo (models/)"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    from archsim.workload import list_models

    print("\n".join(list_models()))
    return 0
