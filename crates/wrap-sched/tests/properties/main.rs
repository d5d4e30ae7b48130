//! Property tests of the searches on random small workflows and profiles.

use std::sync::Arc;

use proptest::prelude::*;
use wrap_model::arbitrary::{profile_set, workflow};
use wrap_model::Slo;
use wrap_sched::{predict, schedule, Model, ScheduleError, ScheduleOptions, Strategy};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_strategy_answers_a_valid_plan_or_unreachable(set in profile_set(4), w in workflow(3, 9), slo in 1.0f64..2000.0) {
        let m = Model::new(Arc::new(set));
        for strategy in Strategy::ALL {
            match schedule(&m, &w, Slo::new(slo).unwrap(), &ScheduleOptions::new(strategy)) {
                Ok(s) => {
                    prop_assert_eq!(s.wraps.validate(&w), Ok(()));
                    prop_assert!(s.latency_ms.get() < slo);
                    let p = predict(&m, &w, &s.wraps, true).unwrap();
                    prop_assert_eq!(p.latency_ms, s.latency_ms);
                    prop_assert_eq!(p.wrap_count, s.wrap_count);
                }
                Err(ScheduleError::Unreachable { best, .. }) => {
                    prop_assert_eq!(best.wraps.validate(&w), Ok(()));
                    prop_assert!(best.latency_ms.get() >= slo);
                }
                Err(e) => prop_assert!(false, "{strategy}: {e}"),
            }
        }
    }

    #[test]
    fn default_is_never_worse_than_chiron_kl(set in profile_set(4), w in workflow(3, 9), slo in 1.0f64..2000.0) {
        let m = Model::new(Arc::new(set));
        let slo = Slo::new(slo).unwrap();
        if let Ok(kl) = schedule(&m, &w, slo, &ScheduleOptions::new(Strategy::ChironKl)) {
            let ours = schedule(&m, &w, slo, &ScheduleOptions::default());
            prop_assert!(ours.is_ok(), "default found nothing where chiron-kl did");
            let ours = ours.unwrap();
            prop_assert!(ours.wrap_count <= kl.wrap_count);
            let f = wrap_sched::frontier(&m, &w, kl.wrap_count).unwrap();
            prop_assert!(f.frontier[kl.wrap_count - 1].latency_ms <= kl.latency_ms);
        }
        let f = wrap_sched::frontier(&m, &w, w.max_stage_size()).unwrap();
        for pair in f.frontier.windows(2) {
            prop_assert!(pair[1].latency_ms <= pair[0].latency_ms);
        }
    }
}
