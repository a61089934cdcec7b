"""``deploybot demo``: everything local — Redis, the Pulumi emulator, the fake Slack and the bot — and a console to
play the people in the channel (``/deploy …``, ``as ben``, ``click 1``), typed or replayed with ``--script``.

    runner.py        start and stop everything (Redis via redis_server.py); DemoOptions, Demo, running_demo()
    console.py       the commands a person types; feed.py keeps the channel's picture and prints what changes
    render.py        Block Kit as terminal text (mrkdwn.py for the text, buttons.py for their numbers)
    control.py       the HTTP client for the sandboxes' /_sandbox/ control APIs; people.py names the workspace
    terminal.py      stdin and stdout; script.py the --script file; cli.py the subcommand itself

Product code never imports this package: only the CLI does (it serves the sandboxes in-process).
"""
