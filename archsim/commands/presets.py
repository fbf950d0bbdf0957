"""``archsim presets``: list the architecture presets."""

NAME = "presets"
HELP = "list architecture presets"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    from archsim.arch import list_presets

    print("\n".join(list_presets()))
    return 0
