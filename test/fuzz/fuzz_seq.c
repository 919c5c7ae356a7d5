/*
 * fuzz_seq.c - the entry-sequence grammar (ft_seq_parse) and the names
 * it prints back (ft_seq_signal_str), which must parse again to the
 * same signal.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	struct ft_seq *seq = malloc(sizeof(*seq));
	struct ft_seq *again = malloc(sizeof(*again));
	char buf[64];
	unsigned i;

	if (seq == NULL || again == NULL)
		abort();
	if (ft_seq_parse(NULL, text, seq) == 0) {
		if (seq->nsignals > FT_SEQ_MAX_SIGNALS ||
		    seq->entry.nsteps > FT_SEQ_MAX_STEPS ||
		    seq->exit.nsteps > FT_SEQ_MAX_STEPS)
			abort();
		for (i = 0; i < seq->entry.nsteps; i++)
			if (seq->entry.steps[i].op != FT_SEQ_WAIT &&
			    seq->entry.steps[i].signal >= seq->nsignals)
				abort();
		for (i = 0; i < seq->exit.nsteps; i++)
			if (seq->exit.steps[i].op != FT_SEQ_WAIT &&
			    seq->exit.steps[i].signal >= seq->nsignals)
				abort();
		for (i = 0; i < seq->nsignals; i++) {
			const struct ft_seq_signal *s = &seq->signals[i];

			ft_seq_signal_str(s, buf, sizeof(buf));
			if (ft_seq_parse(NULL, buf, again) != 0 ||
			    again->nsignals != 1 ||
			    again->signals[0].kind != s->kind ||
			    again->signals[0].num != s->num ||
			    again->signals[0].chip != s->chip ||
			    strcmp(again->signals[0].name, s->name) != 0)
				abort();
			/* A short buffer truncates, never overruns. */
			ft_seq_signal_str(s, buf, 3);
			if (strlen(buf) > 2)
				abort();
		}
	}
	(void)ft_seq_preset_find(text);
	free(again);
	free(seq);
	free(text);
	return 0;
}
