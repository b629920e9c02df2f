"""proactive-rl: GRPO fine-tuning that teaches vision-language models to ask for interventions."""

__version__ = "0.1.0"
