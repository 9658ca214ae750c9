//! The fictional council's vocabulary: canonical services and each vendor's raw names for them.
//! Also the lookup CSVs (`pipelines/lookups/`) that map raw names back to services.

use crate::generate::rng::Rng;

/// Canonical services, in a fixed order (indices are used throughout the generator).
pub(crate) const SERVICES: [&str; 8] = [
    "Housing",
    "Revenues & Benefits",
    "Council Tax",
    "Waste & Recycling",
    "Planning",
    "Parking",
    "Licensing",
    "Environmental Health",
];

pub(crate) const HOUSING: usize = 0;
pub(crate) const REVENUES_BENEFITS: usize = 1;
pub(crate) const COUNCIL_TAX: usize = 2;
pub(crate) const WASTE: usize = 3;
pub(crate) const PLANNING: usize = 4;
pub(crate) const PARKING: usize = 5;
pub(crate) const LICENSING: usize = 6;
pub(crate) const ENVIRONMENTAL_HEALTH: usize = 7;

/// A raw category name, the service it maps to and its share within that service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Category {
    pub name: &'static str,
    pub service: usize,
    pub weight: f64,
}

const fn cat(name: &'static str, service: usize, weight: f64) -> Category {
    Category {
        name,
        service,
        weight,
    }
}

/// Telephony queues (several per service; none is a service name).
pub(crate) const QUEUES: [Category; 20] = [
    cat("HSG_General", HOUSING, 0.40),
    cat("HSG_Repairs", HOUSING, 0.40),
    cat("HSG_Homelessness", HOUSING, 0.20),
    cat("RB_Benefits", REVENUES_BENEFITS, 0.50),
    cat("RB_HousingBenefit", REVENUES_BENEFITS, 0.30),
    cat("RB_CTReduction", REVENUES_BENEFITS, 0.20),
    cat("CTAX_Billing", COUNCIL_TAX, 0.60),
    cat("CTAX_Recovery", COUNCIL_TAX, 0.25),
    cat("CTAX_Discounts", COUNCIL_TAX, 0.15),
    cat("WASTE_Bins", WASTE, 0.60),
    cat("WASTE_Garden", WASTE, 0.25),
    cat("WASTE_Bulky", WASTE, 0.15),
    cat("PLAN_Applications", PLANNING, 0.70),
    cat("PLAN_Enforcement", PLANNING, 0.30),
    cat("PARK_Permits", PARKING, 0.60),
    cat("PARK_PCN", PARKING, 0.40),
    cat("LIC_General", LICENSING, 0.60),
    cat("LIC_Taxi", LICENSING, 0.40),
    cat("ENV_Noise", ENVIRONMENTAL_HEALTH, 0.55),
    cat("ENV_FoodSafety", ENVIRONMENTAL_HEALTH, 0.45),
];

/// Face-to-face enquiry types.
pub(crate) const ENQUIRY_TYPES: [Category; 16] = [
    cat("Homelessness", HOUSING, 0.45),
    cat("Housing Register", HOUSING, 0.35),
    cat("Housing Repairs", HOUSING, 0.20),
    cat("Benefits Claim", REVENUES_BENEFITS, 0.65),
    cat("Housing Benefit Evidence", REVENUES_BENEFITS, 0.35),
    cat("Council Tax Query", COUNCIL_TAX, 0.75),
    cat("Council Tax Payment", COUNCIL_TAX, 0.25),
    cat("Bulky Waste", WASTE, 0.60),
    cat("Bin Request", WASTE, 0.40),
    cat("Planning Enquiry", PLANNING, 1.0),
    cat("Parking Permit", PARKING, 0.70),
    cat("Blue Badge", PARKING, 0.30),
    cat("Taxi Licence", LICENSING, 0.70),
    cat("Premises Licence", LICENSING, 0.30),
    cat("Pest Control", ENVIRONMENTAL_HEALTH, 0.60),
    cat("Food Hygiene", ENVIRONMENTAL_HEALTH, 0.40),
];

/// A web form; `fee` is what a submitted payment form charges.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Form {
    pub cat: Category,
    pub fee: Fee,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Fee {
    None,
    /// The same fee every time, per financial year (pence).
    Fixed([u64; 3]),
    /// A fee picked from a short price list (pence).
    OneOf(&'static [u64]),
    /// Any amount in a range (pence), e.g. paying part of a bill.
    Range(u64, u64),
}

const fn form(name: &'static str, service: usize, weight: f64, fee: Fee) -> Form {
    Form {
        cat: cat(name, service, weight),
        fee,
    }
}

/// Web forms. Names use the only non-ASCII characters the Windows-1252 writer encodes
/// (`–`, `£`, `é`, `’`), and a few contain commas so they have to be quoted.
pub(crate) const FORMS: [Form; 24] = [
    form("Report a housing repair", HOUSING, 0.40, Fee::None),
    form("Tenant’s repair request", HOUSING, 0.20, Fee::None),
    form("Housing Register application", HOUSING, 0.25, Fee::None),
    form("Homelessness – request for help", HOUSING, 0.15, Fee::None),
    form("Housing Benefit claim", REVENUES_BENEFITS, 0.55, Fee::None),
    form(
        "Council Tax Reduction claim",
        REVENUES_BENEFITS,
        0.30,
        Fee::None,
    ),
    form(
        "Discretionary Housing Payment application",
        REVENUES_BENEFITS,
        0.15,
        Fee::None,
    ),
    form(
        "Council Tax – change of address",
        COUNCIL_TAX,
        0.35,
        Fee::None,
    ),
    form(
        "Council Tax – discount application",
        COUNCIL_TAX,
        0.20,
        Fee::None,
    ),
    form(
        "Council Tax – pay your bill",
        COUNCIL_TAX,
        0.30,
        Fee::Range(2_500, 40_000),
    ),
    form(
        "Council Tax – set up a Direct Debit",
        COUNCIL_TAX,
        0.15,
        Fee::None,
    ),
    form("Missed bin report", WASTE, 0.40, Fee::None),
    form(
        "Garden waste subscription – £",
        WASTE,
        0.30,
        Fee::Fixed([4_500, 4_800, 5_200]),
    ),
    form(
        "Bulky waste collection",
        WASTE,
        0.18,
        Fee::OneOf(&[3_000, 4_500]),
    ),
    form("Bins, boxes and bags request", WASTE, 0.12, Fee::None),
    form(
        "Planning pre-application advice",
        PLANNING,
        0.60,
        Fee::OneOf(&[12_000, 35_000]),
    ),
    form("Report a planning breach", PLANNING, 0.40, Fee::None),
    form(
        "Parking permit application",
        PARKING,
        0.65,
        Fee::OneOf(&[6_000, 9_000]),
    ),
    form(
        "Parking, permits and visitor vouchers enquiry",
        PARKING,
        0.35,
        Fee::None,
    ),
    form(
        "Café & street trading licence",
        LICENSING,
        0.45,
        Fee::OneOf(&[15_000, 30_000]),
    ),
    form(
        "Taxi driver licence renewal",
        LICENSING,
        0.55,
        Fee::Fixed([21_000, 21_000, 22_000]),
    ),
    form(
        "Report a noise nuisance",
        ENVIRONMENTAL_HEALTH,
        0.50,
        Fee::None,
    ),
    form(
        "Noise, smoke and odour complaint",
        ENVIRONMENTAL_HEALTH,
        0.20,
        Fee::None,
    ),
    form(
        "Pest control booking",
        ENVIRONMENTAL_HEALTH,
        0.30,
        Fee::Fixed([6_500, 6_500, 7_000]),
    ),
];

/// The satisfaction survey's service names, one per canonical service in `SERVICES` order.
pub(crate) const SURVEY_SERVICES: [&str; 8] = [
    "Housing Services",
    "Benefits",
    "Council Tax",
    "Bins & Recycling",
    "Planning",
    "Parking",
    "Licensing",
    "Environmental Health",
];

/// Raw names deliberately missing from the lookups (`unmapped_service` defects).
pub(crate) const UNMAPPED_QUEUES: [&str; 2] = ["TEST_Queue", "OLD_IVR_Overflow"];
pub(crate) const UNMAPPED_FORMS: [&str; 2] = ["Old Website Feedback", "Test form – do not use"];
pub(crate) const UNMAPPED_ENQUIRY_TYPES: [&str; 2] = ["Freedom of Information", "TEST - ignore"];

/// Outcome words no mapping knows (`unknown_outcome` defects).
pub(crate) const UNKNOWN_OUTCOMES: [&str; 2] = ["Transferred?", "SYS_ERR"];

/// Draws a category once the service is known, with the categories' weights within it.
#[derive(Debug)]
pub(crate) struct ByService {
    items: Vec<Vec<usize>>,
    weights: Vec<Vec<f64>>,
}

impl ByService {
    pub(crate) fn new(cats: &[Category]) -> ByService {
        let mut items = vec![Vec::new(); SERVICES.len()];
        let mut weights = vec![Vec::new(); SERVICES.len()];
        for (i, c) in cats.iter().enumerate() {
            items[c.service].push(i);
            weights[c.service].push(c.weight);
        }
        ByService { items, weights }
    }

    /// Index into the category list; every service has at least one (checked by a test).
    pub(crate) fn draw(&self, rng: &mut Rng, service: usize) -> usize {
        let k = rng.weighted(&self.weights[service]);
        self.items[service].get(k).copied().unwrap_or(0)
    }
}

/// The lookup CSVs as (file name, UTF-8 content), in the layout `pipelines/lookups/` ships.
#[cfg(test)]
pub(crate) fn lookup_files() -> Vec<(&'static str, String)> {
    fn csv(header: &str, rows: impl Iterator<Item = (&'static str, &'static str)>) -> String {
        let mut s = format!("{header}\n");
        for (raw, service) in rows {
            for (i, field) in [raw, service].into_iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                if field.contains([',', '"']) {
                    s.push('"');
                    s.push_str(&field.replace('"', "\"\""));
                    s.push('"');
                } else {
                    s.push_str(field);
                }
            }
            s.push('\n');
        }
        s
    }
    let of = |c: &Category| (c.name, SERVICES[c.service]);
    vec![
        ("queues.csv", csv("queue,service", QUEUES.iter().map(of))),
        (
            "enquiry_types.csv",
            csv("enquiry_type,service", ENQUIRY_TYPES.iter().map(of)),
        ),
        (
            "forms.csv",
            csv("form,service", FORMS.iter().map(|f| of(&f.cat))),
        ),
        (
            "survey_services.csv",
            csv(
                "survey_service,service",
                SURVEY_SERVICES
                    .iter()
                    .copied()
                    .zip(SERVICES.iter().copied()),
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_has_categories_and_names_are_unique() {
        let forms: Vec<Category> = FORMS.iter().map(|f| f.cat).collect();
        for cats in [&QUEUES[..], &ENQUIRY_TYPES[..], &forms[..]] {
            assert!(ByService::new(cats).items.iter().all(|g| !g.is_empty()));
        }
        let mut names: Vec<&str> = QUEUES
            .iter()
            .chain(ENQUIRY_TYPES.iter())
            .chain(forms.iter())
            .map(|c| c.name)
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        for bad in UNMAPPED_QUEUES
            .iter()
            .chain(&UNMAPPED_FORMS)
            .chain(&UNMAPPED_ENQUIRY_TYPES)
        {
            assert!(!names.contains(bad));
        }
    }

    /// The shipped `pipelines/lookups/*.csv` must match this vocabulary. Run with
    /// `CEX_WRITE_LOOKUPS=1` to (re)write them after changing a name here.
    #[test]
    fn shipped_lookups_match_the_vocabulary() -> anyhow::Result<()> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/lookups");
        let write = std::env::var_os("CEX_WRITE_LOOKUPS").is_some();
        if write {
            std::fs::create_dir_all(&dir)?;
        }
        for (name, content) in lookup_files() {
            let path = dir.join(name);
            if write {
                std::fs::write(&path, &content)?;
            }
            let shipped = std::fs::read_to_string(&path)?;
            assert_eq!(shipped, content, "{} is stale", path.display());
        }
        Ok(())
    }
}
