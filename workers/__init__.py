"""Process entry points: the RQ worker, the scheduler and the mail sender. They import `agency`;
nothing in `agency` imports them."""
