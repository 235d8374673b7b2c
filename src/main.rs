fn main() {
    print!("{}", rampart::api::crds_yaml());
}
