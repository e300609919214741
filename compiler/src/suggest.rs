//! "Did you mean": the one shared helper every unknown-name check uses for its help line.
//!
//! Pure string work; it must not know about scopes or diagnostics (callers pass the candidates
//! that are valid where the name was written and format the help line themselves).

/// The candidate closest to `name`, if one is close enough to be a plausible typo.
///
/// Closeness is the optimal-string-alignment distance (edits plus adjacent swaps, so `btea` finds
/// `beta`), compared case-insensitively so a wrong capitalisation always counts as close. A candidate
/// qualifies when its distance is at most a third of the longer name (at least 1, so a single typo
/// in a short name still counts); `name` itself is never suggested. Ties go to the smaller distance,
/// then to the alphabetically first candidate, so the suggestion does not depend on the candidates'
/// order.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let lowered = name.to_lowercase();
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name && !candidate.is_empty())
        .filter_map(|candidate| {
            let distance = strsim::osa_distance(&lowered, &candidate.to_lowercase());
            let longer = name.chars().count().max(candidate.chars().count());
            (distance <= (longer / 3).max(1)).then_some((distance, candidate))
        })
        .min()
        .map(|(_, candidate)| candidate.to_string())
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn finds_single_typos_swaps_and_case() {
        let names = ["beta", "gamma", "conv_encoder", "deconv_decoder"];
        assert_eq!(did_you_mean("betta", names).as_deref(), Some("beta"));
        assert_eq!(did_you_mean("btea", names).as_deref(), Some("beta"));
        assert_eq!(did_you_mean("Gamma", names).as_deref(), Some("gamma"));
        assert_eq!(
            did_you_mean("conv_encodr", names).as_deref(),
            Some("conv_encoder")
        );
    }

    #[test]
    fn rejects_far_names_and_the_name_itself() {
        let names = ["beta", "gamma"];
        assert_eq!(did_you_mean("zzzzzz", names), None);
        assert_eq!(did_you_mean("beta", ["beta"]), None);
        assert_eq!(did_you_mean("x", std::iter::empty()), None);
    }

    #[test]
    fn ties_do_not_depend_on_candidate_order() {
        // `mib` is one edit from both `mig` and `mia`: the alphabetically first wins either way.
        assert_eq!(did_you_mean("mib", ["mig", "mia"]).as_deref(), Some("mia"));
        assert_eq!(did_you_mean("mib", ["mia", "mig"]).as_deref(), Some("mia"));
    }
}
