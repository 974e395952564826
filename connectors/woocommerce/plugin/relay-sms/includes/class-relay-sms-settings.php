<?php
/**
 * The settings page (WooCommerce → Relay SMS), built on the Settings API.
 *
 * @package RelaySms
 */

defined( 'ABSPATH' ) || exit;

/**
 * Settings: relay URL, API key, consent wording, abandoned-cart delay.
 */
class Relay_SMS_Settings {

	const OPTION = 'relay_sms_settings';
	const PAGE   = 'relay-sms';

	/**
	 * The settings with defaults filled in.
	 *
	 * @return array
	 */
	public static function get() {
		$saved = get_option( self::OPTION, array() );
		$saved = is_array( $saved ) ? $saved : array();
		return array(
			'relay_url'       => isset( $saved['relay_url'] ) ? (string) $saved['relay_url'] : '',
			'api_key'         => isset( $saved['api_key'] ) ? (string) $saved['api_key'] : '',
			'consent_wording' => Relay_SMS_Consent::wording( isset( $saved['consent_wording'] ) ? $saved['consent_wording'] : '' ),
			'cart_delay'      => Relay_SMS_Abandonment::delay_minutes( isset( $saved['cart_delay'] ) ? $saved['cart_delay'] : null ),
		);
	}

	/**
	 * Hooks.
	 */
	public static function init() {
		add_action( 'admin_menu', array( __CLASS__, 'menu' ) );
		add_action( 'admin_init', array( __CLASS__, 'register' ) );
	}

	/**
	 * The page under the WooCommerce menu.
	 */
	public static function menu() {
		add_submenu_page( 'woocommerce', __( 'Relay SMS', 'relay-sms' ), __( 'Relay SMS', 'relay-sms' ), 'manage_woocommerce', self::PAGE, array( __CLASS__, 'render' ) );
	}

	/**
	 * Register the option, its section and fields.
	 */
	public static function register() {
		register_setting(
			self::PAGE,
			self::OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( __CLASS__, 'sanitize' ),
				'default'           => array(),
			)
		);
		add_settings_section( 'relay_sms_main', __( 'Connection and checkout', 'relay-sms' ), '__return_false', self::PAGE );
		$fields = array(
			'relay_url'       => __( 'Relay URL', 'relay-sms' ),
			'api_key'         => __( 'Relay API key', 'relay-sms' ),
			'consent_wording' => __( 'Consent wording at checkout', 'relay-sms' ),
			'cart_delay'      => __( 'Abandoned-cart delay (minutes)', 'relay-sms' ),
		);
		foreach ( $fields as $key => $label ) {
			add_settings_field( $key, $label, array( __CLASS__, 'field' ), self::PAGE, 'relay_sms_main', array( 'key' => $key ) );
		}
	}

	/**
	 * Clean the submitted values; an empty API key field keeps the stored key.
	 *
	 * @param mixed $input Submitted values.
	 * @return array
	 */
	public static function sanitize( $input ) {
		$input   = is_array( $input ) ? $input : array();
		$current = self::get();
		$api_key = isset( $input['api_key'] ) ? trim( sanitize_text_field( $input['api_key'] ) ) : '';
		return array(
			'relay_url'       => esc_url_raw( isset( $input['relay_url'] ) ? trim( $input['relay_url'] ) : '', array( 'https', 'http' ) ),
			'api_key'         => '' === $api_key ? $current['api_key'] : $api_key,
			'consent_wording' => Relay_SMS_Consent::wording( isset( $input['consent_wording'] ) ? sanitize_textarea_field( $input['consent_wording'] ) : '' ),
			'cart_delay'      => Relay_SMS_Abandonment::delay_minutes( isset( $input['cart_delay'] ) ? $input['cart_delay'] : null ),
		);
	}

	/**
	 * One field.
	 *
	 * @param array $args Field arguments.
	 */
	public static function field( $args ) {
		$settings = self::get();
		$key      = $args['key'];
		$name     = self::OPTION . '[' . $key . ']';
		if ( 'consent_wording' === $key ) {
			printf( '<textarea name="%s" rows="3" class="large-text">%s</textarea>', esc_attr( $name ), esc_textarea( $settings[ $key ] ) );
			echo '<p class="description">' . esc_html__( 'Shown next to the unticked checkbox and stored with every consent as evidence.', 'relay-sms' ) . '</p>';
		} elseif ( 'api_key' === $key ) {
			printf( '<input type="password" name="%s" value="" class="regular-text" autocomplete="off" placeholder="%s" />', esc_attr( $name ), esc_attr( '' === $settings['api_key'] ? '' : __( 'saved - leave empty to keep', 'relay-sms' ) ) );
		} elseif ( 'cart_delay' === $key ) {
			printf( '<input type="number" min="5" max="10080" name="%s" value="%d" />', esc_attr( $name ), (int) $settings[ $key ] );
		} else {
			printf( '<input type="url" name="%s" value="%s" class="regular-text" />', esc_attr( $name ), esc_attr( $settings[ $key ] ) );
		}
	}

	/**
	 * The page.
	 */
	public static function render() {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			return;
		}
		echo '<div class="wrap"><h1>' . esc_html__( 'Relay SMS', 'relay-sms' ) . '</h1><form method="post" action="options.php">';
		settings_fields( self::PAGE );
		do_settings_sections( self::PAGE );
		submit_button();
		echo '</form>';
		Relay_SMS_Cabinet::button();
		echo '</div>';
	}
}
