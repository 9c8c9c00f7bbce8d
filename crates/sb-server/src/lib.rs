//! Placeholder.

#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

pub fn serve(_args: ServeArgs) -> anyhow::Result<()> {
    Ok(())
}
