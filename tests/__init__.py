"""The project's tests, a regular package: a dependency that installs a top-level `tests`
package (garmin-fit-sdk 21.x does) cannot shadow it, as it would a namespace package."""
