"""What every chat front shares (Slack, Teams, the terminal): reading typed sentences, finding the
question an answer belongs to and why one is refused, the questions waiting for someone, and the
case threads kept as a projection of the cases."""
