"""The assistant in Microsoft Teams: Adaptive Cards for the handlers' chat (`bot.teams.cards`)."""
