"""A simulated year of an integrated care system, run through the real assistant (`bench.bench_year`).

- `world`: the organisations, people and complaints of the simulated system, seeded.
- `people`: how each simulated person answers the assistant, through the same questions
  (`flows.prompts.next_prompts`) the terminal and Slack put to them.
- `servers`: the SMTP server the letters really go to, with its faults.
- `driver`: accelerated time: the clock jumps from one moment to the next at which anything is due.
- `record`: what a run leaves for the oracle: every letter as the SMTP server took it, every
  moment the assistant was up, every email delivered to its mailbox, every fault injected.
- `oracle`: an independent judge (its own working-day calendar) of what must have happened.
"""
