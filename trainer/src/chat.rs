//! Chat templates: the Jinja templates Hugging Face tokenizers carry in `tokenizer_config.json`,
//! rendered with minijinja the way transformers renders them (`trim_blocks`, `lstrip_blocks`,
//! loop controls, `raise_exception`, and Python's string methods such as `.strip()` through
//! minijinja-contrib's pycompat layer, as text-generation-inference does).

use minijinja::{context, Environment, Error, ErrorKind};

/// Renders `messages` (role, content) with `template`; `add_generation_prompt` opens the
/// assistant's turn.
pub fn render(
    template: &str,
    messages: &[(&str, &str)],
    add_generation_prompt: bool,
    bos_token: &str,
    eos_token: &str,
) -> Result<String, Error> {
    let mut env = Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function(
        "raise_exception",
        |message: String| -> Result<String, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, message))
        },
    );
    env.add_template("chat", template)?;
    let messages: Vec<minijinja::Value> = messages
        .iter()
        .map(|&(role, content)| context! { role => role, content => content })
        .collect();
    env.get_template("chat").and_then(|t| {
        t.render(context! {
            messages => messages,
            add_generation_prompt => add_generation_prompt,
            bos_token => bos_token,
            eos_token => eos_token,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn chatml_with_python_methods_and_a_default_system_turn() {
        let template = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nBe brief.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'].strip() + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
        let text = render(template, &[("user", "  Hi? ")], true, "", "").unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\n"
        );
        let failing = "{{ raise_exception('only user turns') }}";
        assert!(render(failing, &[("user", "x")], true, "", "")
            .unwrap_err()
            .to_string()
            .contains("only user turns"));
    }
}
