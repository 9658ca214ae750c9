//! How every chart looks: slide-sized canvas, the bundled font, a colour-blind-safe palette
//! (Okabe and Ito, 2008) and month labels like "Apr 2023".

use std::sync::Once;

use plotters::style::{FontStyle, RGBColor};

/// 16:9, the size of a slide; text sizes below are chosen to be legible when projected.
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 720;
pub const TITLE_SIZE: u32 = 30;
pub const LABEL_SIZE: u32 = 22;
pub const TICK_SIZE: u32 = 18;
pub const NOTE_SIZE: u32 = 18;
/// Height of the strip under the plot that holds the legend (legends never cover data).
pub const LEGEND_HEIGHT: u32 = 56;

/// The family every chart asks for: in SVG the viewer's sans-serif, in PNG the bundled font.
pub const FONT: &str = "sans-serif";

/// Liberation Sans 2 (SIL Open Font License 1.1, see assets/fonts/LICENSE): bundled so text
/// renders on a machine with no fonts at all.
static REGULAR: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Bold.ttf");

/// Registers the bundled font with plotters, once per process.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Both are valid TrueType files compiled into the binary; a unit test proves they load.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, REGULAR);
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, BOLD);
    });
}

/// Okabe-Ito colours (2008) in the order series take them: distinguishable with the common colour
/// vision deficiencies, and every series also gets its own marker shape. Okabe-Ito's orange is
/// darkened and its yellow and sky blue left out so that every colour keeps 3:1 contrast against
/// white (WCAG 2.2, 1.4.11); a unit test checks it.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(166, 111, 0),   // orange, darkened
    RGBColor(0, 0, 0),       // black
];
/// Text and axes: near-black on white has a contrast ratio above 15:1.
pub const INK: RGBColor = RGBColor(33, 33, 33);
/// Secondary text (notes, suppressed groups): still above 7:1 on white.
pub const MUTED: RGBColor = RGBColor(84, 84, 84);
/// Background of a marked span such as the baseline year.
pub const SHADE: RGBColor = RGBColor(232, 232, 232);

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG relative luminance of an sRGB colour.
    fn luminance(c: RGBColor) -> f64 {
        let channel = |v: u8| {
            let v = v as f64 / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(c.0) + 0.7152 * channel(c.1) + 0.0722 * channel(c.2)
    }

    fn contrast_with_white(c: RGBColor) -> f64 {
        1.05 / (luminance(c) + 0.05)
    }

    #[test]
    fn colours_have_enough_contrast_on_white() {
        for c in PALETTE {
            assert!(
                contrast_with_white(c) >= 3.0,
                "{c:?}: {:.2}",
                contrast_with_white(c)
            );
        }
        assert!(contrast_with_white(INK) >= 7.0);
        assert!(contrast_with_white(MUTED) >= 7.0);
    }

    #[test]
    fn the_bundled_fonts_load() {
        assert!(ab_glyph_loads(REGULAR) && ab_glyph_loads(BOLD));
    }

    fn ab_glyph_loads(bytes: &'static [u8]) -> bool {
        plotters::style::register_font("font-check", FontStyle::Normal, bytes).is_ok()
    }
}
