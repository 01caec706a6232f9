/**
 * How a preview's list of writes ("step: operation key", see the template preview tests) compares with what the real
 * run then did. The limit of a preview: each step sees the records as they are, not as the steps before it in the same
 * run would leave them. So the ActiveCampaign contacts that the Dynamics part of the Initial Sync links (people who
 * were in ActiveCampaign already) are read unlinked by its ActiveCampaign → Dynamics part, and a Dynamics lead whose
 * contact the contact step links is not yet held back by precedence: the preview lists lead writes for them that the
 * real run does not do. Everything else must be listed exactly.
 */
export function unexplainedPreviewDifferences(previewed: string[], done: string[], acEmailsBefore: Set<string>): { missing: string[]; extra: string[] } {
	const writtenToAc = new Set(previewed.filter((l) => / to ActiveCampaign: /.test(l)).map((l) => l.split(' ').pop()!));
	const explained = (line: string) => {
		const email = line.split(' ').pop()!;
		return /^Write leads to (Dynamics|ActiveCampaign): /.test(line) && acEmailsBefore.has(email) && writtenToAc.has(email);
	};
	return {
		missing: done.filter((line) => !previewed.includes(line)),
		extra: previewed.filter((line) => !done.includes(line) && !explained(line)),
	};
}
